import { checkKnownOptions, checkOptionsObject } from '@hotpath/core'
import { type HdrCounts, type HdrLayout, scratchFor } from './hdr'
import type { View } from './histogram'
import type { Registry } from './registry'
import type { AnyMetric } from './registry-options'
import { unitInfo } from './units'

/**
 * `Content-Type` of the Prometheus text exposition format 0.0.4.
 *
 * @example
 * res.setHeader('content-type', PROMETHEUS_CONTENT_TYPE)
 */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'

/**
 * Options of `registry.prometheus()` and {@link prometheusHandler}.
 *
 * @example
 * registry.prometheus({ quantiles: true, quantileValues: [0.5, 0.99], quantileView: 'interval' })
 */
export interface PrometheusOptions {
  /**
   * Also expose each histogram's quantiles as a summary family named
   * `<name>_quantiles_<unit>` (e.g. `http_request_duration_quantiles_seconds`).
   * @default true
   */
  quantiles?: boolean
  /**
   * Quantiles exposed in the summary family (0..1).
   * @default [0.5, 0.9, 0.95, 0.99, 0.999]
   */
  quantileValues?: readonly number[]
  /**
   * View the quantiles are computed over (buckets, sums and counts are always cumulative, as
   * Prometheus expects).
   * @default 'interval' when the registry has an `interval`, else 'cumulative'
   */
  quantileView?: View
  /**
   * Export time units in seconds (`_seconds`) and sizes in bytes (`_bytes`), as Prometheus
   * expects; values are converted, recording stays in the metric's unit. `false` exports the
   * recorded unit as it is (`_milliseconds`).
   * @default true
   */
  baseUnits?: boolean
}

/** Option names of {@link PrometheusOptions}. */
export const PROMETHEUS_OPTIONS: readonly string[] = [
  'quantiles',
  'quantileValues',
  'quantileView',
  'baseUnits',
]

const DEFAULT_QUANTILES = Object.freeze([0.5, 0.9, 0.95, 0.99, 0.999])

function num(value: number): string {
  if (value === Number.POSITIVE_INFINITY) return '+Inf'
  if (value === Number.NEGATIVE_INFINITY) return '-Inf'
  return String(value)
}

function escapeHelp(help: string): string {
  return help.replace(/[\\\n]/g, (c) => (c === '\\' ? '\\\\' : '\\n'))
}

/**
 * The exported name of a metric: prefix + name + unit suffix (+ `_total` for counters). With base
 * units (the default) time units are exported as `_seconds` and `bytes` as `_bytes`; any other unit
 * is used as its own suffix. A name that already ends in its unit (`_ms`, `_milliseconds`,
 * `_seconds`) or in `_total` is not suffixed twice.
 *
 * @example
 * exportedName(registry.histogram('http_request_duration', { unit: 'ms' }), 'api')
 * // 'api_http_request_duration_seconds'
 * exportedName(registry.counter('jobs'), 'api') // 'api_jobs_total'
 */
export function exportedName(metric: AnyMetric, prefix: string, baseUnits = true): string {
  const parts = nameParts(metric, prefix, baseUnits)
  return familyName(parts, '', metric.type === 'counter')
}

/** An exported name split around the unit: `<stem>[_<part>]_<unit>[_total]`. */
export interface NameParts {
  /** Prefix + name, without the unit or `_total`. */
  stem: string
  /** Exported unit suffix, '' for none. */
  unit: string
  /** Recorded units per exported unit: exported values are recorded values divided by it. */
  perBase: number
  /** Exported unit in OpenTelemetry (UCUM) notation, '' for none. */
  ucum: string
}

/** Splits the exported name of `metric` (see {@link exportedName}). */
export function nameParts(metric: AnyMetric, prefix: string, baseUnits: boolean): NameParts {
  let stem = prefix ? `${prefix}_${metric.name}` : metric.name
  if (metric.type === 'counter' && stem.endsWith('_total')) stem = stem.slice(0, -6)
  const info = unitInfo(metric.unit)
  const unit = baseUnits ? info.baseSuffix : info.suffix
  if (unit) {
    for (const spelled of [unit, info.suffix, ...info.aliases]) {
      if (spelled && stem.endsWith(`_${spelled}`)) {
        stem = stem.slice(0, -spelled.length - 1)
        break
      }
    }
  }
  return baseUnits
    ? { stem, unit, perBase: info.perBase, ucum: info.baseUcum }
    : { stem, unit, perBase: 1, ucum: metric.unit }
}

/** `<stem>[_<part>][_<unit>][_total]`. */
export function familyName(parts: NameParts, part: string, total: boolean): string {
  let name = part ? `${parts.stem}_${part}` : parts.stem
  if (parts.unit) name += `_${parts.unit}`
  return total ? `${name}_total` : name
}

function braces(rendered: string, extra: string): string {
  if (!rendered) return extra ? `{${extra}}` : ''
  return extra ? `{${rendered},${extra}}` : `{${rendered}}`
}

/** Series rendered between two yields of {@link prometheusChunks} (about 1–2 ms of work). */
export const SERIES_PER_CHUNK = 100

/** Renders the text exposition of every metric of `registry`. */
export function renderPrometheus(registry: Registry, options: PrometheusOptions): string {
  let out = ''
  for (const chunk of prometheusChunks(registry, options, Number.POSITIVE_INFINITY)) out += chunk
  return out
}

/**
 * Renders the exposition, yielding back to the event loop every {@link SERIES_PER_CHUNK} series so
 * that a scrape of thousands of series never holds the loop for long.
 */
export async function renderPrometheusAsync(registry: Registry, options: PrometheusOptions): Promise<string> {
  let out = ''
  for (const chunk of prometheusChunks(registry, options, SERIES_PER_CHUNK)) {
    out += chunk
    await new Promise<void>((resolve) => setImmediate(resolve))
  }
  return out
}

/** Yields the exposition in pieces of about `seriesPerChunk` series. */
export function* prometheusChunks(
  registry: Registry,
  options: PrometheusOptions,
  seriesPerChunk: number,
): Generator<string> {
  let rendered = 0
  const withQuantiles = options.quantiles ?? true
  const baseUnits = options.baseUnits ?? true
  const quantiles = options.quantileValues ?? DEFAULT_QUANTILES
  const percentiles = quantiles.map((q) => q * 100)
  const quantileLabels = quantiles.map((q) => `quantile="${num(q)}"`)
  const quantileView = options.quantileView ?? (registry.interval > 0 ? 'interval' : 'cumulative')
  const scratch = new Map<HdrLayout, HdrCounts>()
  const cumulative: number[] = []
  const quantileValues: number[] = []
  let out = ''
  for (const metric of registry.metrics()) {
    // A family without series is left out: promtool and scrapers treat it as an error or noise.
    if (metric.size === 0) continue
    const parts = nameParts(metric, registry.prefix, baseUnits)
    const per = parts.perBase
    const name = familyName(parts, '', metric.type === 'counter')
    const help = metric.help ? `# HELP ${name} ${escapeHelp(metric.help)}\n` : ''
    if (metric.type !== 'histogram') {
      out += `${help}# TYPE ${name} ${metric.type}\n`
      for (const s of metric.series()) {
        out += `${name}${braces(s.rendered, '')} ${num(s.value / per)}\n`
        if (++rendered % seriesPerChunk === 0) {
          yield out
          out = ''
        }
      }
      continue
    }
    const counts = scratchFor(scratch, metric.layout)
    const bounds = metric.buckets
    const leLabels = bounds.map((b) => `le="${num(b / per)}"`)
    const summaryName = familyName(parts, 'quantiles', false)
    out += `${help}# TYPE ${name} histogram\n`
    let summary = ''
    for (const s of metric.series()) {
      const c = s.read('cumulative', counts)
      c.cumulativeAt(bounds, cumulative)
      const open = s.rendered ? `${name}_bucket{${s.rendered},` : `${name}_bucket{`
      for (let i = 0; i < bounds.length; i++) out += `${open}${leLabels[i]!}} ${cumulative[i]}\n`
      out += `${name}_bucket${braces(s.rendered, 'le="+Inf"')} ${c.count}\n`
      out += `${name}_sum${braces(s.rendered, '')} ${num(c.sum / per)}\n`
      out += `${name}_count${braces(s.rendered, '')} ${c.count}\n`
      if (withQuantiles) {
        const q = quantileView === 'cumulative' ? c : s.read('interval', counts)
        q.percentiles(percentiles, quantileValues)
        const qopen = s.rendered ? `${summaryName}{${s.rendered},` : `${summaryName}{`
        // No values, no quantiles: NaN, as Prometheus clients report an empty summary.
        for (let i = 0; i < quantiles.length; i++)
          summary += `${qopen}${quantileLabels[i]!}} ${q.count === 0 ? 'NaN' : num(quantileValues[i]! / per)}\n`
        summary += `${summaryName}_sum${braces(s.rendered, '')} ${num(q.sum / per)}\n`
        summary += `${summaryName}_count${braces(s.rendered, '')} ${q.count}\n`
      }
      if (++rendered % seriesPerChunk === 0) {
        yield out
        out = ''
      }
    }
    if (withQuantiles && summary) {
      const summaryHelp = `# HELP ${summaryName} ${quantileView === 'interval' ? 'Last interval' : 'Cumulative'} quantiles of ${name}.\n`
      out += `${summaryHelp}# TYPE ${summaryName} summary\n${summary}`
    }
  }
  if (out) yield out
}

/**
 * The parts of a Node `ServerResponse` (and Express `res`) the handler uses.
 *
 * @example
 * const handler = prometheusHandler(registry)
 * http.createServer((req, res) => handler(req, res)) // res is a ResponseLike
 */
export interface ResponseLike {
  statusCode: number
  setHeader(name: string, value: string): unknown
  end(body: string): unknown
}

/**
 * The parts of a Fastify `reply` the handler uses.
 *
 * @example
 * fastify.get('/metrics', (req, reply) => prometheusHandler(registry)(req, reply)) // reply is a ReplyLike
 */
export interface ReplyLike {
  raw: unknown
  type(contentType: string): unknown
  send(body: string): unknown
}

/**
 * A request handler serving the exposition (rendered with `registry.prometheusAsync()`, which
 * yields to the event loop between chunks of series): works as a node:http listener, an Express
 * route and a Fastify route handler.
 *
 * @example
 * http.createServer(prometheusHandler(registry))             // node:http
 * app.get('/metrics', prometheusHandler(registry))           // Express
 * fastify.get('/metrics', prometheusHandler(registry))       // Fastify
 */
export function prometheusHandler(
  registry: Registry,
  options: PrometheusOptions = {},
): (req: unknown, res: ResponseLike | ReplyLike) => Promise<unknown> {
  checkKnownOptions('prometheusHandler()', checkOptionsObject('options', options), PROMETHEUS_OPTIONS)
  return async function metricsHandler(_req, res) {
    const body = await registry.prometheusAsync(options)
    if ('raw' in res && typeof (res as ReplyLike).send === 'function') {
      const reply = res as ReplyLike
      reply.type(PROMETHEUS_CONTENT_TYPE)
      reply.send(body)
      return undefined
    }
    const response = res as ResponseLike
    response.statusCode = 200
    response.setHeader('content-type', PROMETHEUS_CONTENT_TYPE)
    response.end(body)
    return undefined
  }
}
