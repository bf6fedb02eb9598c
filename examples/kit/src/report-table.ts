/** Formats milliseconds for a report. */
export const formatMs = (value: number): string => `${value.toFixed(1)} ms`

/** Formats a 0..1 ratio as a percentage. */
export const formatPercent = (value: number): string => `${(value * 100).toFixed(1)}%`

/**
 * Renders `[label, value]` rows as an indented two-column block.
 *
 * @example
 * console.log(reportTable([['p50', formatMs(12.3)], ['p99', formatMs(80)]]))
 */
export function reportTable(rows: [string, string][]): string {
  if (rows.length === 0) return '  (none)'
  const width = Math.max(...rows.map(([k]) => k.length))
  return rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join('\n')
}

/**
 * Joins titled sections into a report.
 *
 * @example
 * console.log(reportSections([['Load', reportTable(rows)], ['Advice', '  - none']]))
 */
export function reportSections(sections: [title: string, body: string][]): string {
  return sections.map(([title, body]) => `${title}\n${body}`).join('\n')
}

/** Latency percentiles as a report section body (`max` shown when present). */
export function latencyTable(latency: { p50: number; p95: number; p99: number; max?: number }): string {
  const rows: [string, string][] = [
    ['p50', formatMs(latency.p50)],
    ['p95', formatMs(latency.p95)],
    ['p99', formatMs(latency.p99)],
  ]
  if (latency.max !== undefined) rows.push(['max', formatMs(latency.max)])
  return reportTable(rows)
}
