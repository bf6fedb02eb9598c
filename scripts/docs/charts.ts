/**
 * Draws one SVG chart per benchmark scenario from the committed results in bench/results/ (what
 * `pnpm bench <scenario>` writes) into docs/benchmarks/charts/, and keeps the block of chart links
 * in each benchmark page in step with them.
 *
 * Usage: pnpm docs:charts          write charts and page blocks
 *        pnpm docs:charts --check  exit 1 when a committed chart or block differs from the results
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type BarChart, renderBarChart } from './svg-chart'

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)))
export const RESULTS_DIR = join(root, 'bench', 'results')
export const CHARTS_DIR = join(root, 'docs', 'benchmarks', 'charts')

/** What `bench/run.ts` writes for one scenario. */
export interface ScenarioResult {
  scenario: string
  command: string
  description: string
  date: string
  node: string
  cpu: string
  cores: number
  platform: string
  loadAverage: [number, number]
  /** Throughput scenarios: the task every ratio is against. */
  baseline?: string
  rows: Array<Record<string, number | string>>
}

/** How to chart a measure scenario: which column, which row is the reference, which unit. */
interface MeasureSpec {
  column: string
  reference: string
  axis: string
  unit: BarChart['unit']
  lowerIsBetter: boolean
  /** Rows left out (e.g. a loader baseline that is not a contender). */
  skip?: (name: string) => boolean
  /** Converts the column to the chart's unit (times are charted in nanoseconds). */
  scale?: number
  /** The column is a ratio already. */
  ratios?: false
}

/**
 * Measure scenarios report custom columns; each entry says which one compares the contenders.
 * A scenario missing here fails the run, so a new scenario cannot go without a chart.
 */
const MEASURE_SPECS: Record<string, MeasureSpec> = {
  'cache/codec': {
    column: 'median ns',
    reference: 'JSON.parse (raw, no guard)',
    axis: 'median time per decode',
    unit: 'time',
    lowerIsBetter: true,
  },
  'cache/coherence': {
    column: 'lag p99 ms',
    reference: 'steady (Redis up)',
    axis: 'p99 invalidation lag (set acknowledged → another process sees the new value)',
    unit: 'time',
    scale: 1e6,
    lowerIsBetter: true,
  },
  'cache/l1-hit-interleaved': {
    column: 'median ns',
    reference: 'lru-cache get (raw, sync)',
    axis: 'median time per get',
    unit: 'time',
    lowerIsBetter: true,
  },
  'cache/l2-hit-interleaved': {
    column: 'cost vs the ioredis row',
    reference: 'sequential: ioredis get + JSON.parse',
    axis: 'median cost relative to ioredis get + JSON.parse in the same group',
    unit: { name: '×', decimals: 2 },
    lowerIsBetter: true,
    ratios: false,
  },
  'cache/memory': {
    column: 'heap at 1M keys MB',
    reference: 'lru-cache set (raw)',
    axis: 'heap after 1M keys through a 10k L1',
    unit: { name: 'MB', decimals: 1 },
    lowerIsBetter: true,
  },
  'cache/stampede': {
    column: 'median ms over loader',
    reference: 'floor: one shared promise, no cache',
    axis: 'median time over the loader',
    unit: 'time',
    scale: 1e6,
    lowerIsBetter: true,
  },
  'concurrency/semaphore-scaling': {
    column: 'ns/task @100k queued',
    reference: 'p-limit (reference)',
    axis: 'median time per task with 100,000 queued',
    unit: 'time',
    lowerIsBetter: true,
  },
  'concurrency/workers-offload': {
    column: 'stall p99 ms',
    reference: 'piscina (raw)',
    axis: "p99 of the main thread's event-loop stalls while 64 callers run the work",
    unit: 'time',
    scale: 1e6,
    lowerIsBetter: true,
  },
  'concurrency/workers-overhead': {
    column: 'wall µs per task',
    reference: 'piscina (raw): trivial task',
    axis: 'median wall time per task',
    unit: 'time',
    scale: 1e3,
    lowerIsBetter: true,
  },
  'metrics/import-time': {
    column: 'medianMs',
    reference: 'prom-client',
    axis: 'median wall time of import() in a fresh process',
    unit: 'time',
    scale: 1e6,
    lowerIsBetter: true,
  },
  'poller/10k-pollers': {
    column: 'CPU ms',
    reference: 'p-wait-for',
    axis: 'CPU time over the window',
    unit: 'time',
    scale: 1e6,
    lowerIsBetter: true,
  },
  'pool/burst': {
    column: 'final connections',
    reference: 'generic-pool',
    axis: 'connections open after the burst',
    unit: { name: 'connections', decimals: 0 },
    lowerIsBetter: true,
  },
  'pool/sqlite-readers': {
    column: 'reads/s (median)',
    reference: 'kysely SqliteDialect',
    axis: 'median reads per second',
    unit: { name: 'reads/s', decimals: 0 },
    lowerIsBetter: false,
  },
}

/** Scenarios comparing hotpath with itself (every row is hotpath's). */
const ALL_HOTPATH = new Set(['cache/coherence', 'cache/get-many'])

/** Whether a row is one of hotpath's own (the scenarios name them so). */
function isHotpath(scenario: string, label: string): boolean {
  return ALL_HOTPATH.has(scenario) || /hotpath/.test(label)
}

function footnote(result: ScenarioResult): string {
  const load = result.loadAverage.map((l) => l.toFixed(1)).join('–')
  return `${result.command} · ${result.date.slice(0, 16).replace('T', ' ')} UTC · Node ${result.node} · ${result.cpu} × ${result.cores} · load average ${load}`
}

/** The chart of one scenario result. */
export function chartFor(result: ScenarioResult): BarChart {
  const base = {
    title: result.scenario,
    subtitle: result.description,
    footnote: footnote(result),
  }
  if (result.baseline !== undefined) {
    return {
      ...base,
      reference: result.baseline,
      axis: 'mean time per operation',
      unit: 'time',
      lowerIsBetter: true,
      bars: result.rows.map((row) => ({
        label: String(row.task),
        value: Number(row.meanNs),
        hotpath: isHotpath(result.scenario, String(row.task)),
      })),
    }
  }
  const spec = MEASURE_SPECS[result.scenario]
  if (!spec) throw new Error(`${result.scenario}: no chart spec in scripts/docs/charts.ts (MEASURE_SPECS)`)
  return {
    ...base,
    reference: spec.reference,
    axis: spec.axis,
    unit: spec.unit,
    lowerIsBetter: spec.lowerIsBetter,
    ...(spec.ratios === false ? { ratios: false } : {}),
    bars: result.rows
      .filter((row) => !spec.skip?.(String(row.name)))
      .map((row) => ({
        label: String(row.name),
        value: Number(row[spec.column]) * (spec.scale ?? 1),
        hotpath: isHotpath(result.scenario, String(row.name)),
      })),
  }
}

/** Committed results: one file per scenario, named after the scenario file. */
export function readResults(): Array<{ file: string; result: ScenarioResult }> {
  if (!existsSync(RESULTS_DIR)) return []
  return readdirSync(RESULTS_DIR)
    .filter((f) => f.endsWith('.json') && f !== 'latest.json')
    .sort()
    .map((f) => ({
      file: f.slice(0, -'.json'.length),
      result: JSON.parse(readFileSync(join(RESULTS_DIR, f), 'utf8')) as ScenarioResult,
    }))
}

/** The benchmark page a scenario's chart belongs to, from its file name's prefix. */
export function pageFor(file: string): string {
  const area = file.split('-')[0]!
  const page = join(root, 'docs', 'benchmarks', `${area}.md`)
  return existsSync(page) ? page : join(root, 'docs', 'benchmarks.md')
}

const START = '<!-- charts: generated by pnpm docs:charts from bench/results; do not edit -->'
const END = '<!-- /charts -->'

/** The generated block of chart images for one page. */
function chartBlock(page: string, charts: Array<{ file: string; result: ScenarioResult }>): string {
  const lines = charts.map(({ file, result }) => {
    const path = relative(join(page, '..'), join(CHARTS_DIR, `${file}.svg`))
    const alt = `${result.scenario}: ${result.description}`.replace(/[[\]]/g, '')
    return `![${alt}](${path})`
  })
  return [
    START,
    '',
    'Charts of the last committed full run of each scenario (`bench/results/<scenario>.json`, written',
    'by `pnpm bench <scenario>`). The footnote of each gives its date, Node version, machine and load',
    'average: compare the bars of one chart, which ran together, not figures across runs.',
    '',
    ...lines.flatMap((line) => [line, '']),
    END,
  ].join('\n')
}

/** Puts the block after the page's introduction (before its first `## ` heading), or replaces it. */
export function withChartBlock(markdown: string, block: string): string {
  const start = markdown.indexOf(START)
  if (start >= 0) {
    const end = markdown.indexOf(END, start)
    if (end < 0) throw new Error('chart block has no end marker')
    return markdown.slice(0, start) + block + markdown.slice(end + END.length)
  }
  const heading = markdown.search(/^## /m)
  if (heading < 0) return `${markdown.trimEnd()}\n\n${block}\n`
  return `${markdown.slice(0, heading)}${block}\n\n${markdown.slice(heading)}`
}

/** Every file the charts produce, with its expected content. */
export function expectedFiles(): Map<string, string> {
  const files = new Map<string, string>()
  const pages = new Map<string, Array<{ file: string; result: ScenarioResult }>>()
  for (const entry of readResults()) {
    files.set(join(CHARTS_DIR, `${entry.file}.svg`), renderBarChart(chartFor(entry.result)))
    const page = pageFor(entry.file)
    pages.set(page, [...(pages.get(page) ?? []), entry])
  }
  for (const [page, charts] of pages) {
    files.set(page, withChartBlock(readFileSync(page, 'utf8'), chartBlock(page, charts)))
  }
  return files
}

/** Files whose content on disk differs from what the results give, plus charts with no result. */
export function staleFiles(): string[] {
  const expected = expectedFiles()
  const stale = [...expected]
    .filter(([path, content]) => !existsSync(path) || readFileSync(path, 'utf8') !== content)
    .map(([path]) => relative(root, path))
  const orphans = existsSync(CHARTS_DIR)
    ? readdirSync(CHARTS_DIR)
        .filter((f) => f.endsWith('.svg') && !expected.has(join(CHARTS_DIR, f)))
        .map((f) => relative(root, join(CHARTS_DIR, f)))
    : []
  return [...stale, ...orphans]
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--check')) {
    const stale = staleFiles()
    if (stale.length > 0) {
      console.error(`Out of date with bench/results (run pnpm docs:charts):\n  ${stale.join('\n  ')}`)
      process.exit(1)
    }
    console.log('charts: up to date')
  } else {
    mkdirSync(CHARTS_DIR, { recursive: true })
    const files = expectedFiles()
    for (const [path, content] of files) writeFileSync(path, content)
    console.log(`charts: wrote ${files.size} files`)
  }
}
