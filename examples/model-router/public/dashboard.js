// The live page: polls /stats, keeps one point per completed interval (live.seq) and redraws
// each chart as SVG. Plain script, no build step, nothing fetched from elsewhere.
const HISTORY = 60
const POLL_MS = 500
const SVG_NS = 'http://www.w3.org/2000/svg'
const WIDTH = 600
const HEIGHT = 200
const PAD = { left: 48, right: 12, top: 10, bottom: 22 }
const COLORS = ['#2563eb', '#d97706', '#dc2626', '#059669', '#7c3aed', '#0891b2']

const $ = (id) => document.getElementById(id)
const round1 = (v) => (v === null || v === undefined ? '–' : v.toFixed(1))
const percent = (ratio) => (ratio === null || ratio === undefined ? null : ratio * 100)

/** Each chart: how to read its series from a point, its unit and (optionally) a fixed top. */
const CHARTS = [
  {
    id: 'throughput',
    title: 'Throughput',
    unit: 'req/s',
    series: (p) => ({ completions: p.throughput, 'failed (5xx)': p.failedPerSecond }),
  },
  {
    id: 'latency',
    title: 'Completion latency, router side',
    unit: 'ms',
    series: (p) => ({
      p50: p.latency?.p50 ?? null,
      p95: p.latency?.p95 ?? null,
      p99: p.latency?.p99 ?? null,
    }),
  },
  {
    id: 'hit-rate',
    title: 'Cache hit rate, catalog lookups',
    unit: '%',
    max: 100,
    series: (p) => ({ 'hit rate': percent(p.cacheHitRate) }),
  },
  {
    id: 'provider-success',
    title: 'Provider success rate, EWMA',
    unit: '%',
    max: 100,
    series: (p) => Object.fromEntries(p.providers.map((s) => [s.name, percent(s.successRate)])),
  },
  {
    id: 'provider-latency',
    title: 'Provider latency, EWMA',
    unit: 'ms',
    series: (p) => Object.fromEntries(p.providers.map((s) => [s.name, s.latencyMs])),
  },
]

const points = []
let lastSeq

function svg(tag, attributes, text) {
  const element = document.createElementNS(SVG_NS, tag)
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value))
  if (text !== undefined) element.textContent = text
  return element
}

/** A round upper bound for the y axis (1, 2 or 5 times a power of ten). */
function niceMax(value) {
  if (!(value > 0)) return 1
  const power = 10 ** Math.floor(Math.log10(value))
  for (const step of [1, 2, 5, 10]) if (value <= step * power) return step * power
  return 10 * power
}

/** True for 1, 2 or 5 times a power of ten. */
function isRound(step) {
  const mantissa = step / 10 ** Math.floor(Math.log10(step))
  return [1, 2, 5, 10].some((m) => Math.abs(mantissa - m) < 1e-9)
}

function createChart(chart) {
  const figure = document.createElement('figure')
  figure.id = `chart-${chart.id}`
  const caption = document.createElement('figcaption')
  const title = document.createElement('strong')
  title.textContent = `${chart.title} (${chart.unit})`
  const legend = document.createElement('span')
  legend.className = 'legend'
  caption.append(title, legend)
  const canvas = svg('svg', { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: 'img', 'aria-label': chart.title })
  figure.append(caption, canvas)
  $('charts').append(figure)
  chart.legend = legend
  chart.svg = canvas
}

function drawChart(chart) {
  const rows = points.map((p) => chart.series(p))
  const names = [...new Set(rows.flatMap((row) => Object.keys(row)))]
  const values = rows.flatMap((row) => Object.values(row)).filter((v) => typeof v === 'number')
  const top = chart.max ?? niceMax(Math.max(0, ...values) * 1.1)
  const plotW = WIDTH - PAD.left - PAD.right
  const plotH = HEIGHT - PAD.top - PAD.bottom
  const x = (i) => PAD.left + (plotW * (i + HISTORY - points.length)) / (HISTORY - 1)
  const y = (v) => PAD.top + plotH * (1 - Math.min(v, top) / top)

  const nodes = []
  // Five grid steps when that gives round labels (50 → 10s), else four (2000 → 500s).
  const steps = isRound(top / 5) ? 5 : 4
  for (let g = 0; g <= steps; g++) {
    const value = (top * g) / steps
    nodes.push(
      svg('line', { class: 'grid', x1: PAD.left, x2: WIDTH - PAD.right, y1: y(value), y2: y(value) }),
    )
    const label = Number.isInteger(value) ? String(value) : value.toFixed(1)
    nodes.push(svg('text', { class: 'axis', x: PAD.left - 6, y: y(value) + 4, 'text-anchor': 'end' }, label))
  }
  nodes.push(
    svg('text', { class: 'axis', x: PAD.left, y: HEIGHT - 4 }, `−${HISTORY} s`),
    svg('text', { class: 'axis', x: WIDTH - PAD.right, y: HEIGHT - 4, 'text-anchor': 'end' }, 'now'),
  )
  chart.legend.replaceChildren()
  names.forEach((name, n) => {
    const color = COLORS[n % COLORS.length]
    // A gap (null) breaks the line instead of drawing it down to zero.
    let d = ''
    let pen = 'M'
    let drawn = 0
    rows.forEach((row, i) => {
      const v = row[name]
      if (typeof v !== 'number') {
        pen = 'M'
        return
      }
      d += `${pen}${x(i).toFixed(1)},${y(v).toFixed(1)}`
      pen = 'L'
      drawn++
    })
    nodes.push(svg('path', { class: 'series', 'data-series': name, 'data-points': drawn, d, stroke: color }))
    const last = rows.at(-1)?.[name]
    const item = document.createElement('span')
    const swatch = document.createElement('i')
    swatch.style.background = color
    item.append(swatch, `${name} ${round1(last)}`)
    chart.legend.append(item)
  })
  if (points.length === 0) {
    nodes.push(
      svg('text', { class: 'empty', x: WIDTH / 2, y: HEIGHT / 2, 'text-anchor': 'middle' }, 'no data yet'),
    )
  }
  chart.svg.replaceChildren(...nodes)
  chart.svg.dataset.points = String(points.length)
}

function drawSummary(p) {
  $('now-throughput').textContent = `${round1(p.throughput)} req/s`
  $('now-latency').textContent = p.latency ? `${round1(p.latency.p50)} / ${round1(p.latency.p99)} ms` : '–'
  $('now-hit-rate').textContent = p.cacheHitRate === null ? '–' : `${round1(p.cacheHitRate * 100)}%`
  $('now-failed').textContent = String(p.failed)
}

async function poll() {
  try {
    const response = await fetch('/stats', { cache: 'no-store' })
    if (!response.ok) throw new Error(`/stats answered ${response.status}`)
    const stats = await response.json()
    const live = stats.live
    if (live.seq !== lastSeq && live.seq > 0) {
      lastSeq = live.seq
      const seconds = live.intervalMs / 1000
      points.push({
        ...live,
        failedPerSecond: seconds > 0 ? live.failed / seconds : 0,
        providers: stats.providers,
      })
      while (points.length > HISTORY) points.shift()
      for (const chart of CHARTS) drawChart(chart)
      drawSummary(points.at(-1))
    }
    $('status').className = ''
    $('status').textContent = `updated ${new Date().toLocaleTimeString()} · ${points.length} s of history`
  } catch (error) {
    // Shown on the page rather than thrown: the router may be restarting.
    $('status').className = 'error'
    $('status').textContent = `cannot read /stats (${error.message}); retrying`
  }
  setTimeout(poll, POLL_MS)
}

for (const chart of CHARTS) {
  createChart(chart)
  drawChart(chart)
}
poll()
