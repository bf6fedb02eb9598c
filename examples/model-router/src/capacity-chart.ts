/** One point of the capacity chart. */
export interface ChartStep {
  concurrency: number
  rps: number
  p99: number
}

const W = 640
const H = 360
const PAD = { left: 64, right: 64, top: 36, bottom: 48 }

const esc = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;')

/** A "nice" axis maximum: 1, 2 or 5 times a power of ten, at or above `value`. */
function niceMax(value: number): number {
  if (!(value > 0)) return 1
  const power = 10 ** Math.floor(Math.log10(value))
  for (const m of [1, 2, 5, 10]) if (m * power >= value) return m * power
  return 10 * power
}

/**
 * Renders throughput (left axis) and p99 (right axis) against concurrency (log2 axis) as a
 * standalone SVG, with the fitted throughput curve, the knee and the p99 target.
 *
 * @example
 * writeFileSync('capacity.svg', capacityChart(steps, { predicted, targetP99: 100, knee }))
 */
export function capacityChart(
  steps: readonly ChartStep[],
  extra: {
    predicted?: (concurrency: number) => number
    targetP99?: number
    knee?: { concurrency: number } | null
    title?: string
  } = {},
): string {
  const title = extra.title ?? 'Throughput and p99 against concurrency'
  const ns = steps.map((s) => s.concurrency)
  const minN = Math.min(...ns)
  const maxN = Math.max(...ns, minN * 2)
  const lx = (n: number) =>
    PAD.left +
    ((Math.log2(n) - Math.log2(minN)) / (Math.log2(maxN) - Math.log2(minN))) * (W - PAD.left - PAD.right)
  const curve: [number, number][] = []
  if (extra.predicted) {
    for (let i = 0; i <= 60; i++) {
      const n = minN * (maxN / minN) ** (i / 60)
      curve.push([n, extra.predicted(n)])
    }
  }
  const rpsMax = niceMax(Math.max(...steps.map((s) => s.rps), ...curve.map(([, y]) => y)))
  const p99Max = niceMax(Math.max(...steps.map((s) => s.p99), extra.targetP99 ?? 0))
  const plotH = H - PAD.top - PAD.bottom
  const yRps = (v: number) => PAD.top + plotH - (v / rpsMax) * plotH
  const yP99 = (v: number) => PAD.top + plotH - (Math.min(v, p99Max) / p99Max) * plotH
  const path = (pts: [number, number][]) =>
    pts.map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${x.toFixed(1)},${y.toFixed(1)}`).join(' ')

  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-family="sans-serif" font-size="12" role="img" aria-labelledby="chart-title">`,
    `<title id="chart-title">${esc(title)}</title>`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${esc(title)}</text>`,
  ]
  for (let i = 0; i <= 4; i++) {
    const y = PAD.top + (plotH * i) / 4
    out.push(`<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${y}" y2="${y}" stroke="#e5e5e5"/>`)
    out.push(
      `<text x="${PAD.left - 6}" y="${y + 4}" text-anchor="end" fill="#1f6feb">${Math.round(rpsMax * (1 - i / 4))}</text>`,
    )
    out.push(
      `<text x="${W - PAD.right + 6}" y="${y + 4}" fill="#d1242f">${Math.round(p99Max * (1 - i / 4))}</text>`,
    )
  }
  for (const n of ns) {
    out.push(`<text x="${lx(n)}" y="${H - PAD.bottom + 16}" text-anchor="middle">${n}</text>`)
  }
  out.push(
    `<text x="${W / 2}" y="${H - 10}" text-anchor="middle">concurrency (requests in flight, log scale)</text>`,
  )
  out.push(
    `<text x="16" y="${PAD.top + plotH / 2}" fill="#1f6feb" transform="rotate(-90 16 ${PAD.top + plotH / 2})" text-anchor="middle">throughput (req/s)</text>`,
  )
  out.push(
    `<text x="${W - 14}" y="${PAD.top + plotH / 2}" fill="#d1242f" transform="rotate(90 ${W - 14} ${PAD.top + plotH / 2})" text-anchor="middle">p99 (ms)</text>`,
  )
  if (extra.targetP99 !== undefined) {
    const y = yP99(extra.targetP99)
    out.push(
      `<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${y}" y2="${y}" stroke="#d1242f" stroke-dasharray="4 4" opacity="0.6"/>`,
    )
    out.push(
      `<text x="${W - PAD.right - 4}" y="${y - 4}" text-anchor="end" fill="#d1242f">p99 target ${extra.targetP99} ms</text>`,
    )
  }
  if (curve.length > 0) {
    out.push(
      `<path d="${path(curve.map(([n, y]) => [lx(n), yRps(y)]))}" fill="none" stroke="#1f6feb" stroke-dasharray="6 3" opacity="0.7"/>`,
    )
  }
  out.push(
    `<path d="${path(steps.map((s) => [lx(s.concurrency), yRps(s.rps)]))}" fill="none" stroke="#1f6feb" stroke-width="2"/>`,
  )
  out.push(
    `<path d="${path(steps.map((s) => [lx(s.concurrency), yP99(s.p99)]))}" fill="none" stroke="#d1242f" stroke-width="2"/>`,
  )
  for (const s of steps) {
    out.push(`<circle cx="${lx(s.concurrency)}" cy="${yRps(s.rps)}" r="3" fill="#1f6feb"/>`)
    out.push(`<circle cx="${lx(s.concurrency)}" cy="${yP99(s.p99)}" r="3" fill="#d1242f"/>`)
  }
  if (extra.knee) {
    const x = lx(extra.knee.concurrency)
    out.push(
      `<line x1="${x}" x2="${x}" y1="${PAD.top}" y2="${PAD.top + plotH}" stroke="#2da44e" stroke-dasharray="2 3"/>`,
    )
    out.push(`<text x="${x + 4}" y="${PAD.top + 12}" fill="#2da44e">knee</text>`)
  }
  out.push(
    `<text x="${PAD.left + 4}" y="${PAD.top + 12}" fill="#1f6feb">— measured req/s  - - USL fit</text>`,
    `<text x="${PAD.left + 4}" y="${PAD.top + 26}" fill="#d1242f">— p99</text>`,
    '</svg>',
  )
  return `${out.join('\n')}\n`
}
