import { type ChildProcess, fork } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { reportTable } from '@hotpath/example-kit'
import { capacity } from '@hotpath/metrics'
import { tempPgSchema } from '@hotpath/test-utils'
import Redis from 'ioredis'
import {
  type LoadStepOptions,
  type LoadStepResult,
  requestMix,
  runLoadStep,
} from 'model-router/src/capacity-load'
import { FAKE_PROVIDERS } from 'model-router/src/catalog'
import { type FakeProvider, startFakeProvider } from 'model-router/src/fake-provider'
import pg from 'pg'

// `pnpm --filter baseline-router compare [--quick] [--out dir]`: the model router and the baseline
// in child processes of their own, against the same fake providers (in this process) and the same
// autocannon load (in a worker thread), one fresh PostgreSQL schema and Redis prefix per run.
const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    out: { type: 'string', default: '.' },
    target: { type: 'string', default: '100ms' },
  },
})
const quick = args.quick === true
const stepMs = quick ? 2_000 : 5_000
const warmupMs = quick ? 500 : 1_500
const sweep = quick ? [8, 64] : [8, 32, 128]
const outageRunMs = quick ? 6_000 : 15_000
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const kinds = ['router', 'baseline'] as const
type Kind = (typeof kinds)[number]

const providers = new Map<string, FakeProvider>()
for (const fake of FAKE_PROVIDERS) providers.set(fake.name, await startFakeProvider(fake.name))
const providerList = [...providers.values()].map((p) => ({ name: p.name, url: p.url }))

function setProviders(mode: 'instant' | 'realistic'): void {
  for (const fake of FAKE_PROVIDERS) {
    const p = providers.get(fake.name)!.behaviour
    p.down = false
    p.latencyMs = mode === 'instant' ? 0 : fake.latencyMs
    p.jitter = mode === 'instant' ? 0 : 0.3
    p.errorRate = mode === 'instant' ? 0 : fake.errorRate
  }
}

interface Usage {
  cpu: NodeJS.CpuUsage
  elu: { idle: number; active: number }
}

/** A server under test in its own process. */
class Server {
  readonly #child: ChildProcess
  readonly #pending: ((message: { type: string } & Partial<Usage>) => void)[] = []
  constructor(
    readonly kind: Kind,
    readonly url: string,
    child: ChildProcess,
    readonly schema: { schema: string; url: string; drop(): Promise<void> },
    readonly prefix: string,
  ) {
    this.#child = child
    child.on('message', (m: { type: string }) => this.#pending.shift()?.(m))
  }

  static async start(kind: Kind): Promise<Server> {
    const schema = await tempPgSchema()
    const prefix = `compare:${kind}:${process.pid}:${Date.now()}:`
    const child = fork(join(import.meta.dirname, 'serve.ts'), [kind], {
      env: {
        ...process.env,
        DATABASE_URL: schema.url,
        REDIS_URL: redisUrl,
        REDIS_PREFIX: prefix,
        PROVIDERS: JSON.stringify(providerList),
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    const ready = await new Promise<{ url: string }>((ok, fail) => {
      child.once('message', (m) => ok(m as { url: string }))
      child.once('exit', (code) => fail(new Error(`${kind} exited with ${code} before listening`)))
    })
    return new Server(kind, ready.url, child, schema, prefix)
  }

  #ask(type: string): Promise<{ type: string } & Partial<Usage>> {
    return new Promise((ok) => {
      this.#pending.push(ok)
      this.#child.send({ type })
    })
  }

  async usage(): Promise<Usage> {
    const m = await this.#ask('usage')
    return { cpu: m.cpu!, elu: m.elu! }
  }

  /** Stops the server (the router flushes its batched writes), then counts the rows written. */
  async stop(): Promise<number> {
    await this.#ask('stop')
    await new Promise((ok) => this.#child.once('exit', ok))
    const client = new pg.Client({ connectionString: this.schema.url })
    await client.connect()
    const { rows } = await client.query('select count(*)::int as n from request_metrics')
    await client.end()
    await this.schema.drop()
    const redis = new Redis(redisUrl)
    const keys = await redis.keys(`${this.prefix}*`)
    if (keys.length > 0) await redis.del(...keys)
    redis.disconnect()
    return rows[0].n as number
  }
}

interface Measured extends LoadStepResult {
  cpuMsPerRequest: number
  elu: number
}

/** One load step against `server`, with the server's CPU time and event-loop use over the measured part. */
async function measure(
  server: Server,
  options: Omit<LoadStepOptions, 'url' | 'requests'>,
  during?: () => void,
) {
  let before: Promise<Usage> | undefined
  const result = await runLoadStep({ ...options, url: server.url, requests: requestMix(200, 0) }, () => {
    before = server.usage()
    during?.()
  })
  const start = await before!
  const end = await server.usage()
  const cpuMs = (end.cpu.user - start.cpu.user + end.cpu.system - start.cpu.system) / 1000
  const active = end.elu.active - start.elu.active
  const idle = end.elu.idle - start.elu.idle
  return {
    ...result,
    cpuMsPerRequest: cpuMs / Math.max(1, result.requests),
    elu: active / Math.max(1e-9, active + idle),
  } satisfies Measured
}

const f1 = (v: number) => v.toFixed(1)
const results: Record<string, unknown> = {
  date: new Date().toISOString(),
  node: process.version,
  cpu: `${cpus().length} × ${cpus()[0]?.model ?? 'unknown'}`,
  loadavgBefore: loadavg().map((v) => Number(v.toFixed(2))),
}

// 1. Providers answer at once: what each server costs, stepped up to find the knee.
setProviders('instant')
const knees = {} as Record<Kind, { rps: number; concurrency: number; p99: number } | null>
const sweeps = { router: [], baseline: [] } as Record<Kind, Measured[]>
{
  // Both servers up at once and the steps alternated, so a change in the shared machine's load
  // hits both sides of a comparison instead of one.
  const servers = [await Server.start('router'), await Server.start('baseline')]
  for (const connections of sweep) {
    for (const server of servers) {
      const m = await measure(server, { connections, durationMs: stepMs, warmupMs })
      sweeps[server.kind].push(m)
      console.error(
        `${server.kind} ${connections} in flight: ${f1(m.rps)} req/s, p99 ${f1(m.p99)} ms, ${m.cpuMsPerRequest.toFixed(3)} ms CPU/req`,
      )
    }
  }
  for (const server of servers) await server.stop()
}
for (const kind of kinds) {
  const plan = capacity(
    sweeps[kind].map((m) => ({
      concurrency: m.connections,
      rps: m.rps,
      p50: m.p50,
      p95: m.p95,
      p99: m.p99,
      errors: m.errors,
    })),
    { targetP99: args.target as `${number}ms` },
  )
  knees[kind] = plan.knee
}

// 2. Same throughput for both: p99 and CPU at a rate both can serve.
const bestKnee = Math.min(...kinds.map((k) => knees[k]?.rps ?? sweeps[k][0]!.rps))
const equalRate = Math.max(10, Math.round(bestKnee * 0.6))
const equal = {} as Record<Kind, Measured>
for (const kind of kinds) {
  const server = await Server.start(kind)
  // Few connections: autocannon hands out the rate as per-second quotas per connection, so each
  // second opens with a burst the size of the connection count.
  equal[kind] = await measure(server, {
    connections: 16,
    durationMs: stepMs,
    warmupMs,
    overallRate: equalRate,
  })
  await server.stop()
  console.error(`${kind} at ${equalRate} req/s: p99 ${f1(equal[kind].p99)} ms`)
}

// 3. Realistic provider latency, and the best-ranked provider stops answering for the middle third.
setProviders('realistic')
const outageRate = Math.max(10, Math.round(equalRate / 2))
const outage = {} as Record<
  Kind,
  Measured & {
    rows: number
    completions: number
    outage: { ok: number; failed: number; rps: number; errorRate: number }
  }
>
for (const kind of kinds) {
  const server = await Server.start(kind)
  const third = outageRunMs / 3
  const alpha = providers.get('alpha')!.behaviour
  const m = await measure(
    server,
    { connections: 128, durationMs: outageRunMs, warmupMs, overallRate: outageRate },
    () => {
      setTimeout(() => {
        alpha.latencyMs = 60_000
        alpha.jitter = 0
      }, third)
      setTimeout(() => setProviders('realistic'), 2 * third)
    },
  )
  const rows = await server.stop()
  const from = warmupMs + third
  const to = warmupMs + 2 * third
  const inside = m.timeline.filter(([at]) => at >= from && at < to)
  const ok = inside.reduce((s, [, o]) => s + o, 0)
  const failed = inside.reduce((s, [, , x]) => s + x, 0)
  const completions = m.timeline.reduce((s, [, o, x]) => s + o + x, 0)
  outage[kind] = {
    ...m,
    rows,
    completions,
    outage: {
      ok,
      failed,
      rps: (ok * 1000) / (to - from),
      errorRate: ok + failed === 0 ? 0 : failed / (ok + failed),
    },
  }
  console.error(
    `${kind} outage run: ${failed} failed of ${ok + failed} during the outage; ${rows} rows for ${completions} completions`,
  )
}
results.loadavgAfter = loadavg().map((v) => Number(v.toFixed(2)))

const rows: [string, string][] = []
for (const kind of kinds) {
  const k = knees[kind]
  rows.push([
    `${kind}: throughput at p99 < ${args.target}`,
    k ? `${f1(k.rps)} req/s (at ${k.concurrency} in flight, p99 ${f1(k.p99)} ms)` : 'no step under target',
  ])
}
for (const kind of kinds) {
  const e = equal[kind]
  rows.push([
    `${kind}: p99 at ${equalRate} req/s`,
    `${f1(e.p99)} ms (p50 ${f1(e.p50)}, achieved ${f1(e.rps)} req/s)`,
  ])
}
for (const kind of kinds)
  rows.push([
    `${kind}: CPU per request (instant providers)`,
    `${(equal[kind].cpuMsPerRequest * 1000).toFixed(0)} µs (ELU ${equal[kind].elu.toFixed(2)})`,
  ])
for (const kind of kinds) {
  const o = outage[kind]
  rows.push([
    `${kind}: outage (${outageRate} req/s offered)`,
    `${o.outage.failed} errors of ${o.outage.ok + o.outage.failed} (${(o.outage.errorRate * 100).toFixed(1)}%), ${f1(o.outage.rps)} ok req/s, run p99 ${f1(o.p99)} ms`,
  ])
  rows.push([`${kind}: rows written / completions`, `${o.rows} / ${o.completions}`])
  rows.push([`${kind}: CPU per request (realistic + outage)`, `${(o.cpuMsPerRequest * 1000).toFixed(0)} µs`])
}
console.log(reportTable(rows))
Object.assign(results, { target: args.target, sweep: sweeps, knees, equalRate, equal, outageRate, outage })
for (const kind of kinds)
  for (const m of [...sweeps[kind], equal[kind], outage[kind]]) (m as Partial<Measured>).timeline = undefined
const outDir = resolve(args.out ?? '.')
mkdirSync(outDir, { recursive: true })
writeFileSync(join(outDir, 'compare.json'), `${JSON.stringify(results, null, 2)}\n`)
await Promise.all([...providers.values()].map((p) => p.close()))
// The hung provider's pending answers hold timers for up to a minute; the run is over.
process.exit(0)
