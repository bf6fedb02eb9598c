/** Renders rows as an aligned text table (first column left-aligned, the rest right-aligned). */
export function renderTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n')
}

/** Formats nanoseconds with a readable unit. */
export function formatNs(ns: number): string {
  if (!Number.isFinite(ns)) return '-'
  if (ns < 1_000) return `${ns.toFixed(1)} ns`
  if (ns < 1_000_000) return `${(ns / 1_000).toFixed(2)} µs`
  if (ns < 1_000_000_000) return `${(ns / 1_000_000).toFixed(2)} ms`
  return `${(ns / 1_000_000_000).toFixed(2)} s`
}

/** Formats an operations-per-second figure. */
export function formatOps(ops: number): string {
  if (!Number.isFinite(ops)) return '-'
  return Math.round(ops).toLocaleString('en-US')
}
