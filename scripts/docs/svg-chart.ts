/**
 * A horizontal bar chart as a self-contained, accessible SVG: one bar per contender, hotpath's
 * bars in their own colour beside the peers', each labelled with its value and its ratio to the
 * reference row. Output depends only on the input (no dates, no randomness), so a committed chart
 * can be compared byte for byte with a freshly drawn one.
 */

export interface Bar {
  /** Row label as the benchmark names it. */
  label: string
  /** Value in the chart's base unit (nanoseconds for times). */
  value: number
  /** Drawn in hotpath's colour. */
  hotpath: boolean
}

export interface BarChart {
  /** Heading, also the SVG's accessible name. */
  title: string
  /** One line under the heading: what was measured. */
  subtitle: string
  bars: Bar[]
  /** Label of the bar every ratio is taken against. */
  reference: string
  /** What the axis measures, without unit: "mean time per operation". */
  axis: string
  /** Unit kind: times are scaled to ns/µs/ms/s; anything else is printed as given. */
  unit: 'time' | { name: string; decimals: number }
  /** Whether a shorter bar is the better result (says so on the axis). */
  lowerIsBetter: boolean
  /** Source line at the bottom: command, date, Node, machine, load. */
  footnote: string
  /** False when the values are ratios already (no second ratio beside each). @default true */
  ratios?: boolean
}

const WIDTH = 760
const LABEL_WIDTH = 300
const PLOT_WIDTH = 300
const ROW = 26
const LINE = 16
/** Characters of the subtitle per line at 12 px in the chart's width. */
const WRAP = 112
const HOTPATH = '#c2410c'
const PEER = '#64748b'
const TEXT = '#1e293b'
const MUTED = '#475569'

function xml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}

/** Splits text into lines of at most `width` characters at spaces. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = []
  let line = ''
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line)
      line = word
    } else line = line ? `${line} ${word}` : word
  }
  if (line) lines.push(line)
  return lines
}

/** The time unit that keeps the largest value readable, and its size in nanoseconds. */
function timeScale(max: number): { unit: string; ns: number } {
  if (max >= 1e9) return { unit: 's', ns: 1e9 }
  if (max >= 1e6) return { unit: 'ms', ns: 1e6 }
  if (max >= 1e3) return { unit: 'µs', ns: 1e3 }
  return { unit: 'ns', ns: 1 }
}

/** A round tick step giving about `count` ticks up to `max`. */
function tickStep(max: number, count: number): number {
  const raw = max / count
  const magnitude = 10 ** Math.floor(Math.log10(raw))
  const scaled = raw / magnitude
  const nice = scaled <= 1 ? 1 : scaled <= 2 ? 2 : scaled <= 2.5 ? 2.5 : scaled <= 5 ? 5 : 10
  return nice * magnitude
}

function trimNumber(value: number, decimals: number): string {
  return value.toLocaleString('en-US', { maximumFractionDigits: decimals, minimumFractionDigits: 0 })
}

function formatValue(value: number, decimals: number): string {
  const digits = value >= 100 ? Math.min(decimals, 0) : value >= 10 ? Math.min(decimals, 1) : decimals
  return trimNumber(value, digits)
}

/** Ratio to the reference row, as the tables print it. */
export function formatRatio(ratio: number): string {
  if (ratio >= 10) return `${ratio.toFixed(1)}×`
  return `${ratio.toFixed(2)}×`
}

/** Renders the chart. Throws on an empty chart or a missing reference row. */
export function renderBarChart(chart: BarChart): string {
  if (chart.bars.length === 0) throw new Error(`${chart.title}: no bars`)
  const reference = chart.bars.find((b) => b.label === chart.reference)
  if (!reference) throw new Error(`${chart.title}: reference row '${chart.reference}' is not among the bars`)
  const max = Math.max(...chart.bars.map((b) => b.value))
  const scale = chart.unit === 'time' ? timeScale(max) : { unit: chart.unit.name, ns: 1 }
  const decimals = chart.unit === 'time' ? 2 : chart.unit.decimals
  const step = tickStep(max / scale.ns, 4)
  const axisMax = Math.max(step, Math.ceil(max / scale.ns / step) * step)
  const x = (value: number) => LABEL_WIDTH + (value / scale.ns / axisMax) * PLOT_WIDTH
  const subtitle = wrap(chart.subtitle, WRAP)
  const TOP = 48 + subtitle.length * LINE
  const height = TOP + chart.bars.length * ROW + 88
  const axisY = TOP + chart.bars.length * ROW + 6
  const better = chart.lowerIsBetter ? 'shorter is better' : 'longer is better'
  const axisTitle = `${chart.axis} (${scale.unit}) — ${better}`
  const summary = chart.bars
    .map((b) => {
      const ratio =
        reference.value === 0 ? '' : `, ${formatRatio(b.value / reference.value)} ${chart.reference}`
      return `${b.label}: ${formatValue(b.value / scale.ns, decimals)} ${scale.unit}${ratio}`
    })
    .join('; ')

  const out: string[] = []
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" role="img" aria-labelledby="chart-title chart-desc" font-family="system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif" font-size="12">`,
    `<title id="chart-title">${xml(chart.title)}</title>`,
    `<desc id="chart-desc">${xml(`${chart.subtitle}. ${axisTitle}. ${summary}. ${chart.footnote}`)}</desc>`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text x="16" y="24" font-size="15" font-weight="600" fill="${TEXT}">${xml(chart.title)}</text>`,
    ...subtitle.map((line, i) => `<text x="16" y="${44 + i * LINE}" fill="${MUTED}">${xml(line)}</text>`),
  )
  for (let tick = 0; tick <= axisMax + step / 1e6; tick += step) {
    const tx = LABEL_WIDTH + (tick / axisMax) * PLOT_WIDTH
    out.push(
      `<line x1="${tx.toFixed(1)}" y1="${TOP - 4}" x2="${tx.toFixed(1)}" y2="${axisY}" stroke="#e2e8f0"/>`,
      `<text x="${tx.toFixed(1)}" y="${axisY + 16}" text-anchor="middle" fill="${MUTED}">${trimNumber(tick, 3)}</text>`,
    )
  }
  chart.bars.forEach((bar, i) => {
    const y = TOP + i * ROW
    const end = x(bar.value)
    const ratio = formatRatio(bar.value / reference.value)
    const isReference = bar.label === chart.reference
    const valueText = `${formatValue(bar.value / scale.ns, decimals)} ${scale.unit}`
    const ratioText = isReference ? 'reference' : `${ratio} ${chart.reference}`
    // Bold (hotpath) labels are wider: cut them shorter so they stay inside the label column.
    const room = bar.hotpath ? 36 : 41
    const label = bar.label.length > room ? `${bar.label.slice(0, room - 1)}…` : bar.label
    const note = chart.ratios === false ? '' : isReference ? '(reference)' : `(${ratio})`
    out.push(
      `<g><title>${xml(`${bar.label}: ${valueText} (${ratioText})`)}</title>`,
      `<text x="${LABEL_WIDTH - 8}" y="${y + 16}" text-anchor="end" fill="${TEXT}"${bar.hotpath ? ' font-weight="600"' : ''}>${xml(label)}</text>`,
      `<rect x="${LABEL_WIDTH}" y="${y + 4}" width="${Math.max(1, end - LABEL_WIDTH).toFixed(1)}" height="${ROW - 8}" fill="${bar.hotpath ? HOTPATH : PEER}"/>`,
      `<text x="${(end + 6).toFixed(1)}" y="${y + 16}" fill="${TEXT}">${xml(valueText)}${note ? ` <tspan fill="${MUTED}">${xml(note)}</tspan>` : ''}</text>`,
      '</g>',
    )
  })
  out.push(
    `<line x1="${LABEL_WIDTH}" y1="${TOP - 4}" x2="${LABEL_WIDTH}" y2="${axisY}" stroke="${MUTED}"/>`,
    `<text x="${LABEL_WIDTH + PLOT_WIDTH / 2}" y="${axisY + 34}" text-anchor="middle" fill="${TEXT}">${xml(axisTitle)}</text>`,
    `<rect x="16" y="${axisY + 46}" width="10" height="10" fill="${HOTPATH}"/>`,
    `<text x="30" y="${axisY + 55}" fill="${TEXT}">hotpath</text>`,
    `<rect x="90" y="${axisY + 46}" width="10" height="10" fill="${PEER}"/>`,
    `<text x="104" y="${axisY + 55}" fill="${TEXT}">${xml(chart.ratios === false ? `peer or reference; values relative to ${chart.reference}` : `peer or reference; (ratio) = value ÷ ${chart.reference}`)}</text>`,
    `<text x="16" y="${axisY + 62 + 8}" font-size="10.5" fill="${MUTED}">${xml(chart.footnote)}</text>`,
    '</svg>',
  )
  return `${out.join('\n')}\n`
}
