import { type ChildProcess, fork } from 'node:child_process'
import os from 'node:os'
import { fileURLToPath } from 'node:url'
import { startRedis } from '@hotpath/test-utils'
import {
  analyse,
  type PhaseName,
  type ProbeSample,
  type ProcessReport,
  percentile,
  recoveredAt,
} from '../lib/coherence'
import { defineScenario, type MeasureRow, type MeasureScenario } from '../lib/scenario'
import type { InitMessage } from '../lib/workers/coherence-worker'

const PROCESSES = 4
const KEYS = 1_000
const PROBE_KEYS = 32
/** Operations per second over all processes (reads + writes). */
const RATE = 2_000
const WRITE_SHARE = 0.1
/** Steady run before the Redis server is killed, time it stays down, run after it is back. */
const STEADY_MS = 20_000
const DOWN_MS = 2_000
const AFTER_MS = 15_000
const PROBE_TIMEOUT_MS = 8_000
const QUICK_PROBE_TIMEOUT_MS = 3_000
/** Workload run before the figures start (JIT, connections, L1 filling). */
const WARMUP_MS = 3_000
const worker = fileURLToPath(new URL('../lib/workers/coherence-worker.ts', import.meta.url))

const now = () => performance.timeOrigin + performance.now()
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Timings of a run; `quick` is a few seconds of each phase (figures are a smoke test). */
export interface CoherenceOptions {
  quick?: boolean
}

class Instance {
  readonly child: ChildProcess
  /** This process's clock minus the parent's (ms), from the ping with the shortest round trip. */
  offset = 0
  #waiting = new Map<string, Array<(message: Record<string, unknown>) => void>>()

  constructor() {
    this.child = fork(worker, [], {
      execArgv: ['--conditions=@hotpath/source', '--import', 'tsx'],
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    this.child.on('message', (message: Record<string, unknown>) => {
      const queue = this.#waiting.get(message.type as string)
      const next = queue?.shift()
      next?.(message)
    })
  }

  /** Resolves with the next message of `type` (register before sending what causes it). */
  next(type: string): Promise<Record<string, unknown>> {
    return new Promise((resolve) => {
      const queue = this.#waiting.get(type) ?? []
      queue.push(resolve)
      this.#waiting.set(type, queue)
    })
  }

  send(message: Record<string, unknown>): void {
    this.child.send(message)
  }

  async syncClock(): Promise<void> {
    let best = Number.POSITIVE_INFINITY
    for (let i = 0; i < 20; i++) {
      const reply = this.next('clock')
      const sent = now()
      this.send({ type: 'clock' })
      const at = (await reply).at as number
      const back = now()
      if (back - sent < best) {
        best = back - sent
        this.offset = at - (sent + back) / 2
      }
    }
  }
}

/** Rounded; '–' when there is no figure (no sample in the phase). */
const round = (value: number, digits = 2): number | string =>
  Number.isFinite(value) ? Math.round(value * 10 ** digits) / 10 ** digits : '–'

export function coherenceScenario(options: CoherenceOptions = {}): MeasureScenario {
  const quick = options.quick ?? false
  const steadyMs = quick ? 2_500 : STEADY_MS
  const downMs = quick ? 1_000 : DOWN_MS
  const afterMs = quick ? 5_000 : AFTER_MS
  const warmupMs = quick ? 1_000 : WARMUP_MS
  const rate = quick ? 1_000 : RATE
  return {
    name: 'cache/coherence',
    description: `${PROCESSES} processes, each a hotpath cache (L1 + Redis L2, l2Timeout 1 s, + Redis bus), run ${RATE} ops/s in all (90% get, 10% set, one writer per key) over ${KEYS} keys for 20 s, then the Redis server is SIGKILLed and restarted empty after 2 s, then 15 s more: invalidation lag (set acknowledged → another process polling every ~1 ms sees the new value) and stale reads (started after a set was acknowledged, returned an older version) per phase`,
    async measure() {
      const server = await startRedis({ args: ['--loglevel', 'warning'] })
      const instances = Array.from({ length: PROCESSES }, () => new Instance())
      const probes: ProbeSample[] = []
      let running = true
      try {
        await Promise.all(
          instances.map((instance, id) => {
            const ready = instance.next('ready')
            const init: InitMessage = {
              type: 'init',
              id,
              processes: PROCESSES,
              url: server.url,
              prefix: `hp:bench:coherence:${process.pid}:`,
              keys: KEYS,
              probeKeys: PROBE_KEYS,
              rate: rate / PROCESSES,
              writeShare: WRITE_SHARE,
            }
            instance.send(init as unknown as Record<string, unknown>)
            return ready
          }),
        )
        for (const instance of instances) await instance.syncClock()
        for (const instance of instances) instance.send({ type: 'start' })
        await sleep(warmupMs)
        const load = [os.loadavg()[0]!]
        const start = now()
        // Probes, one at a time: process W writes one of its probe keys while process P polls it.
        const probing = (async () => {
          for (let n = 0; running; n++) {
            const w = n % PROCESSES
            const p = (w + 1 + (Math.floor(n / PROCESSES) % (PROCESSES - 1))) % PROCESSES
            const key = `p${w + PROCESSES * (Math.floor(n / PROCESSES) % (PROBE_KEYS / PROCESSES))}`
            const polled = instances[p]!.next('probed')
            const started = instances[p]!.next('probing')
            instances[p]!.send({
              type: 'probe',
              key,
              timeout: quick ? QUICK_PROBE_TIMEOUT_MS : PROBE_TIMEOUT_MS,
            })
            const { version } = await started
            const written = instances[w]!.next('probe-written')
            instances[w]!.send({ type: 'probe-write', key })
            const [done, result] = await Promise.all([written, polled])
            const offsetW = instances[w]!.offset
            const offsetP = instances[p]!.offset
            const polls = (result.polls as number[]).map((t, i) => (i % 2 === 0 ? t - offsetP : t))
            probes.push({ ack: (done.ack as number) - offsetW, polls, initial: version as number })
            await sleep(20)
          }
        })()
        await sleep(steadyMs)
        load.push(os.loadavg()[0]!)
        const kill = now()
        await server.kill()
        await sleep(downMs)
        await server.restart()
        const up = now()
        await sleep(afterMs)
        const end = now()
        running = false
        for (const instance of instances) instance.send({ type: 'stop' })
        await probing
        await sleep(500)
        load.push(os.loadavg()[0]!)
        const reports = await Promise.all(
          instances.map(async (instance) => {
            const reply = instance.next('report')
            instance.send({ type: 'report' })
            const report = (await reply) as unknown as ProcessReport
            const o = instance.offset
            const shift = (values: number[], width: number, fields: number[]) =>
              values.map((v, i) => (fields.includes(i % width) ? v - o : v))
            return {
              reads: shift(report.reads, 4, [1, 2]),
              writes: shift(report.writes, 4, [2, 3]),
              received: shift(report.received, 2, [1]),
              states: shift(report.states, 3, [0]),
              errors: report.errors,
            }
          }),
        )
        const recovered = recoveredAt(reports, kill, up)
        const phases = { start, kill, recovered, end }
        const figures = analyse(reports, probes, phases, KEYS)
        const spans: Record<PhaseName, [number, number]> = {
          steady: [start, kill],
          outage: [kill, recovered],
          after: [recovered, end],
        }
        const labels: Record<PhaseName, string> = {
          steady: 'steady (Redis up)',
          outage: `outage: SIGKILL → back empty (${downMs / 1000} s) → every queue replayed`,
          after: 'after recovery',
        }
        const loadText = load.map((l) => l.toFixed(1)).join(' → ')
        return (['steady', 'outage', 'after'] as const).map((phase): MeasureRow => {
          const f = figures[phase]
          const seconds = (spans[phase][1] - spans[phase][0]) / 1000
          if (f.outsideExamples.length > 0)
            console.error(
              `cache/coherence ${phase}: stale reads outside the windows:\n  ${f.outsideExamples.join('\n  ')}`,
            )
          return {
            name: labels[phase],
            'phase s': round(seconds, 1),
            'ops/s': Math.round((f.reads + f.writes) / seconds),
            reads: f.reads,
            writes: f.writes,
            probes: f.probes,
            'lag p50 ms': round(percentile(f.lags, 50)),
            'lag p99 ms': round(percentile(f.lags, 99)),
            'lag max ms': round(f.lags.length > 0 ? Math.max(...f.lags) : Number.NaN),
            'probes unfinished': f.probesUnfinished,
            'stale reads': f.stale,
            'in bus window': f.staleInBusWindow,
            'in outage window': f.staleInOutageWindow,
            'outside windows': f.staleOutside,
            'stale age max ms': round(f.staleAgeMaxMs),
            misses: f.misses,
            errors: phase === 'steady' ? reports.reduce((n, r) => n + r.errors, 0) : '',
            'load 1m': loadText,
          }
        })
      } finally {
        running = false
        for (const instance of instances) {
          if (instance.child.connected) instance.send({ type: 'close' })
        }
        await sleep(300)
        for (const instance of instances) if (instance.child.exitCode === null) instance.child.kill('SIGKILL')
        await server.stop()
      }
    },
  }
}

/**
 * 4 processes share 1,000 keys through hotpath caches (L1 + Redis L2 + Redis pub/sub bus) at a
 * fixed rate, with the Redis server killed and restarted empty half way: how long after a `set`
 * resolves the other processes stop serving the old value, and whether any read serves an old
 * value outside the documented windows (bus delivery; from an outage until every recovery queue
 * is replayed).
 */
export default defineScenario(() => coherenceScenario({ quick: process.argv.includes('--quick') }))
