import { invalidOption } from '@hotpath/core'

/**
 * Label values passed to `with()`: every declared label name, as a string, number or boolean. A
 * metric declared without labels takes no label values (`{}` only).
 *
 * @example
 * const labels: LabelValues<'route' | 'status'> = { route: '/chat', status: 200 }
 * requests.with(labels).inc()
 */
export type LabelValues<L extends string> = [L] extends [never]
  ? { readonly [name: string]: never }
  : { readonly [K in L]: string | number | boolean }

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/

/** Checks a metric name against the Prometheus data model. */
export function checkMetricName(name: unknown): string {
  if (typeof name !== 'string' || !METRIC_NAME.test(name)) {
    throw invalidOption('name', 'a metric name matching [a-zA-Z_:][a-zA-Z0-9_:]*', name)
  }
  return name
}

/** Checks declared label names: valid, unique, not reserved. */
export function checkLabelNames(value: unknown): readonly string[] {
  if (value === undefined) return Object.freeze([])
  if (!Array.isArray(value)) throw invalidOption('labels', 'an array of label names', value)
  const seen = new Set<string>()
  for (const label of value) {
    if (
      typeof label !== 'string' ||
      !LABEL_NAME.test(label) ||
      label.startsWith('__') ||
      label === 'le' ||
      label === 'quantile'
    ) {
      throw invalidOption(
        'labels',
        "label names matching [a-zA-Z_][a-zA-Z0-9_]* (not 'le', 'quantile' or '__*')",
        label,
      )
    }
    if (seen.has(label)) throw invalidOption('labels', 'unique label names', label)
    seen.add(label)
  }
  return Object.freeze([...value])
}

/** Escapes a label value for the Prometheus text format. */
export function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => (c === '\\' ? '\\\\' : c === '"' ? '\\"' : '\\n'))
}

/** Renders `name="value",...` (no braces) for the Prometheus text format. */
export function renderLabels(labels: Readonly<Record<string, string>>): string {
  let out = ''
  for (const key in labels) {
    if (out) out += ','
    out += `${key}="${escapeLabelValue(labels[key]!)}"`
  }
  return out
}
