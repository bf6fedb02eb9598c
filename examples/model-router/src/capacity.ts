import { rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { type CapacitySample, capacity, uslThroughput } from '@hotpath/metrics'
import { capacityChart } from './capacity-chart'
import { requestMix, runLoadStep } from './capacity-load'
import { readConfig } from './config'
import { startRouter } from './server'

// `pnpm --filter model-router capacity [--quick] [--out dir] [--steps 1,4,16] [--step 8s]`:
// drives the router at increasing concurrency with autocannon, fits the Universal Scalability
// Law to the steps and writes capacity.json and capacity.svg. ROUTER_URL targets a running
// router instead of starting one in this process.
const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    out: { type: 'string', default: '.' },
    steps: { type: 'string' },
    step: { type: 'string' },
    target: { type: 'string', default: '100ms' },
  },
})
const quick = args.quick === true
const levels = (args.steps ?? (quick ? '2,8,32' : '1,2,4,8,16,32,64,128,256')).split(',').map(Number)
const stepMs = args.step
  ? Number.parseFloat(args.step) * (args.step.endsWith('ms') ? 1 : 1000)
  : quick
    ? 1_500
    : 8_000
const warmupMs = quick ? 500 : 2_000
const outDir = resolve(args.out ?? '.')

const external = process.env.ROUTER_URL
const sqliteFile = join(tmpdir(), `model-router-capacity-${process.pid}.db`)
const running = external
  ? undefined
  : await startRouter(
      readConfig({
        ...process.env,
        PORT: '0',
        SQLITE_FILE: sqliteFile,
        // One load generator looks like one client: the per-client limit would cap the run.
        RATE_LIMIT_PER_MINUTE: process.env.RATE_LIMIT_PER_MINUTE ?? '1000000000',
      }),
    )
const url = external ?? running!.url

/** Event-loop utilization of a router elsewhere: its runtime gauge (a 5 s interval figure). */
async function remoteElu(): Promise<number | undefined> {
  try {
    const text = await (await fetch(`${url}/metrics`)).text()
    const match = /^runtime_event_loop_utilization(?:\{[^}]*\})? ([0-9.eE+-]+)$/m.exec(text)
    return match ? Number(match[1]) : undefined
  } catch {
    return undefined
  }
}

const steps: CapacitySample[] = []
console.error(`capacity: ${url}, steps ${levels.join(', ')}, ${stepMs} ms each after ${warmupMs} ms warm-up`)
try {
  for (const connections of levels) {
    let elu0 = performance.eventLoopUtilization()
    const result = await runLoadStep(
      { url, connections, durationMs: stepMs, warmupMs, requests: requestMix() },
      () => {
        elu0 = performance.eventLoopUtilization()
      },
    )
    const elu = running ? performance.eventLoopUtilization(elu0).utilization : await remoteElu()
    const step = {
      concurrency: connections,
      rps: Math.round(result.rps * 10) / 10,
      p50: result.p50,
      p95: result.p95,
      p99: result.p99,
      errors: Math.round(result.errors * 10_000) / 10_000,
      ...(elu === undefined ? {} : { elu: Math.round(elu * 1000) / 1000 }),
    }
    steps.push(step)
    console.error(
      `  ${String(connections).padStart(4)} in flight: ${step.rps.toFixed(0).padStart(6)} req/s  ` +
        `p50 ${step.p50.toFixed(1)}  p95 ${step.p95.toFixed(1)}  p99 ${step.p99.toFixed(1)} ms  ` +
        `errors ${(step.errors * 100).toFixed(2)}%  elu ${step.elu ?? '?'}`,
    )
  }
} finally {
  await running?.stop()
  rmSync(sqliteFile, { force: true })
  rmSync(`${sqliteFile}-wal`, { force: true })
  rmSync(`${sqliteFile}-shm`, { force: true })
}

const plan = capacity(steps, { targetP99: args.target as `${number}ms` })
const pad = (v: string | number, n: number) => String(v).padStart(n)
console.log('\nconcurrency  measured req/s  predicted req/s  p99 ms  errors  elu')
for (const row of plan.concurrencyTable) {
  const step = steps.find((s) => s.concurrency === row.concurrency)
  console.log(
    `${pad(row.concurrency, 11)}  ${pad(row.measuredRps ?? '-', 14)}  ${pad(row.predictedRps, 15)}  ` +
      `${pad(step ? step.p99.toFixed(1) : '-', 6)}  ${pad(step ? `${(step.errors * 100).toFixed(1)}%` : '-', 6)}  ${step?.elu ?? '-'}`,
  )
}
console.log('\ninstances  predicted req/s at the knee')
for (const row of plan.instanceTable) console.log(`${pad(row.instances, 9)}  ${pad(row.predictedRps, 27)}`)
const { sigma, kappa, lambda, r2 } = plan.usl
console.log(
  `\nUSL: sigma ${sigma.toFixed(4)}, kappa ${kappa.toExponential(2)}, lambda ${lambda.toFixed(1)} req/s, ` +
    `R² ${r2.toFixed(3)}, peak at ~${Number.isFinite(plan.peakConcurrency) ? Math.round(plan.peakConcurrency) : '∞'} in flight`,
)
console.log(plan.verdict)

writeFileSync(
  join(outDir, 'capacity.json'),
  `${JSON.stringify(
    {
      steps: steps.map((s) => ({ ...s, elu: s.elu ?? null })),
      knee: plan.knee,
      usl: { sigma, kappa, lambda },
      r2,
      peakConcurrency: Number.isFinite(plan.peakConcurrency) ? plan.peakConcurrency : null,
      targetP99: plan.targetP99,
      verdict: plan.verdict,
      conditions: { url: external ? url : 'in-process', stepMs, warmupMs, node: process.version },
    },
    null,
    2,
  )}\n`,
)
writeFileSync(
  join(outDir, 'capacity.svg'),
  capacityChart(steps, {
    predicted: (n) => uslThroughput(plan.usl, n),
    targetP99: plan.targetP99,
    knee: plan.knee,
    title: 'model-router: throughput and p99 against concurrency',
  }),
)
console.error(`wrote ${join(outDir, 'capacity.json')} and capacity.svg`)
