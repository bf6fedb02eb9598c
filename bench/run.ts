import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { Bench } from 'tinybench'
import { environment } from './lib/environment'
import { Progress } from './lib/progress'
import {
  isMeasure,
  type MeasureRow,
  type Scenario,
  type ScenarioModule,
  type ThroughputScenario,
} from './lib/scenario'
import { formatNs, formatOps, renderTable } from './lib/table'

const here = dirname(fileURLToPath(import.meta.url))
const args = process.argv.slice(2)
const quick = args.includes('--quick')
const KNOWN_FLAGS = ['--quick', '--list', '--help', '-h']
const filters = args.filter((a) => !a.startsWith('--'))
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {})

interface ThroughputRow {
  task: string
  opsPerSec: number
  meanNs: number
  p99Ns: number
  samples: number
  ratio: number
}

async function load(file: string): Promise<Scenario> {
  const module = (await import(pathToFileURL(join(here, 'scenarios', file)).href)) as {
    default: ScenarioModule
  }
  const exported = module.default
  return typeof exported === 'function' ? await exported() : exported
}

async function runThroughput(scenario: ThroughputScenario, progress: Progress): Promise<ThroughputRow[]> {
  const perRun = scenario.opsPerRun ?? 1
  const bench = new Bench({
    time: quick ? 200 : (scenario.time ?? 1_000),
    warmupTime: quick ? 50 : (scenario.warmupTime ?? 250),
    setup: () => gc(),
  })
  const names = Object.keys(scenario.tasks)
  if (!names.includes(scenario.baseline)) {
    throw new Error(
      `${scenario.name}: baseline '${scenario.baseline}' is not one of its tasks (${names.join(', ')})`,
    )
  }
  for (const name of names) bench.add(name, scenario.tasks[name]!)
  bench.addEventListener('start', () => progress.start(`${scenario.name}: ${names[0]}`))
  let index = 0
  bench.addEventListener('cycle', () => {
    index++
    if (index < names.length) progress.start(`${scenario.name}: ${names[index]}`)
  })
  await bench.run()
  const rows = bench.tasks.map((task) => {
    const result = task.result
    if (!result || result.error)
      throw new Error(`${scenario.name} / ${task.name} failed: ${String(result?.error)}`)
    return {
      task: task.name,
      opsPerSec: result.throughput.mean * perRun,
      meanNs: (result.latency.mean * 1e6) / perRun,
      p99Ns: ((result.latency.p99 ?? Number.NaN) * 1e6) / perRun,
      samples: result.latency.samples.length,
      ratio: 1,
    }
  })
  const base = rows.find((r) => r.task === scenario.baseline)!
  for (const row of rows) row.ratio = row.meanNs / base.meanNs
  return rows
}

function printThroughput(scenario: ThroughputScenario, rows: ThroughputRow[]): void {
  const per = (scenario.opsPerRun ?? 1) > 1 ? ' (per op)' : ''
  console.log(`\n## ${scenario.name} — ${scenario.description}`)
  console.log(
    renderTable(
      ['task', `ops/s${per}`, `mean${per}`, `p99${per}`, 'samples', `cost vs ${scenario.baseline}`],
      rows.map((r) => [
        r.task,
        formatOps(r.opsPerSec),
        formatNs(r.meanNs),
        formatNs(r.p99Ns),
        String(r.samples),
        `${r.ratio.toFixed(2)}×`,
      ]),
    ),
  )
}

function printMeasure(name: string, description: string, rows: MeasureRow[]): void {
  console.log(`\n## ${name} — ${description}`)
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))]
  const show = (v: unknown) =>
    typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(3)) : String(v ?? '')
  console.log(
    renderTable(
      columns,
      rows.map((r) => columns.map((c) => show(r[c]))),
    ),
  )
}

const USAGE = `Usage: pnpm bench [--quick] [--list] [filter ...]

Runs the tinybench scenarios in bench/scenarios/ whose file name contains any filter (all without
one), prints each as a table with ratios to its baseline (a peer library), and stores the figures
in bench/results/latest.json; a full run also writes bench/results/<scenario>.json, the
committed figures the charts in docs/benchmarks are drawn from.

  --list    print the scenarios (file name and what each measures) and exit
  --quick   shorter measuring and warm-up times, for a smoke run (figures are not comparable)
  --help    this text

Examples: pnpm bench cache-l1   pnpm bench --quick pool   pnpm bench --list`

/** The description a scenario file declares, read from its source (nothing is loaded or run). */
function describe(file: string): string {
  const source = readFileSync(join(here, 'scenarios', file), 'utf8')
  const match = /description:\s*(['`"])(.*?)\1/s.exec(source)
  if (!match) return ''
  // Template placeholders show the file's numeric constants (`${KEYS.toLocaleString()}` -> 10,000).
  return match[2]!
    .replace(/\$\{\s*([A-Z_]+)(?:\.toLocaleString\([^)]*\))?\s*\}/g, (whole, name: string) => {
      const constant = new RegExp(`const ${name}\\s*=\\s*([\\d_.]+)\\b`).exec(source)
      return constant ? Number(constant[1]!.replaceAll('_', '')).toLocaleString('en') : whole
    })
    .replace(/\s+/g, ' ')
}

async function main(): Promise<void> {
  const unknown = args.filter((a) => a.startsWith('-') && !KNOWN_FLAGS.includes(a))
  if (args.includes('--help') || args.includes('-h') || unknown.length > 0) {
    if (unknown.length > 0) console.error(`Unknown option ${unknown.join(', ')}\n`)
    console.log(USAGE)
    process.exit(unknown.length > 0 ? 2 : 0)
  }
  const files = readdirSync(join(here, 'scenarios'))
    .filter((f) => f.endsWith('.ts'))
    .filter((f) => filters.length === 0 || filters.some((filter) => f.includes(filter)))
    .sort()
  if (args.includes('--list')) {
    const width = Math.max(...files.map((f) => f.length - 3))
    for (const file of files) console.log(`${file.slice(0, -3).padEnd(width)}  ${describe(file)}`)
    return
  }
  if (files.length === 0) {
    console.error(`No scenario matches ${filters.join(', ') || '(none)'}; files live in bench/scenarios/.`)
    process.exit(1)
  }
  const env = environment()
  console.log(`hotpath bench — ${env.date} — Node ${env.node} — ${env.cpu} × ${env.cores} — ${env.platform}`)
  const progress = new Progress(files.length)
  const resultsPath = join(here, 'results', 'latest.json')
  mkdirSync(dirname(resultsPath), { recursive: true })
  let previous: { scenarios?: Record<string, unknown> } = {}
  try {
    previous = JSON.parse(readFileSync(resultsPath, 'utf8'))
  } catch {}
  const results: Record<string, unknown> = { ...(previous.scenarios ?? {}) }
  let failed = 0
  for (const file of files) {
    progress.start(file)
    try {
      const scenario = await load(file)
      const loadBefore = os.loadavg()[0]!
      if (isMeasure(scenario)) {
        const rows = await scenario.measure()
        progress.step()
        printMeasure(scenario.name, scenario.description, rows)
        results[scenario.name] = { ...env, description: scenario.description, rows }
      } else {
        const rows = await runThroughput(scenario, progress)
        progress.step()
        printThroughput(scenario, rows)
        results[scenario.name] = {
          ...env,
          description: scenario.description,
          baseline: scenario.baseline,
          rows,
        }
      }
      await scenario.teardown?.()
      // A full run is kept per scenario, in the repository: the charts in docs/benchmarks are drawn
      // from these files (pnpm docs:charts). A --quick run is a smoke test and is not kept.
      if (!quick) {
        const load = [loadBefore, os.loadavg()[0]!].map((l) => Math.round(l * 100) / 100)
        const record = {
          scenario: scenario.name,
          command: `pnpm bench ${file.slice(0, -3)}`,
          ...(results[scenario.name] as object),
          date: new Date().toISOString(),
          loadAverage: load,
        }
        writeFileSync(
          join(here, 'results', `${file.slice(0, -3)}.json`),
          `${JSON.stringify(record, null, 2)}\n`,
        )
      }
    } catch (error) {
      failed++
      progress.step()
      console.error(`\n${file} failed:`, error)
    }
  }
  writeFileSync(resultsPath, `${JSON.stringify({ ...env, scenarios: results }, null, 2)}\n`)
  console.log(`\nResults written to ${resultsPath}`)
  // Scenarios may leave clients or servers open; the run is over.
  process.exit(failed > 0 ? 1 : 0)
}

await main()
