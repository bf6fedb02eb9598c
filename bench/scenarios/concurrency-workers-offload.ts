import { monitorEventLoopDelay } from 'node:perf_hooks'
import { createWorkerPool } from '@hotpath/concurrency/workers'
import { Piscina } from 'piscina'
import { defineScenario, type MeasureRow } from '../lib/scenario'
import validateAndHash from '../lib/workers/offload-task.mjs'

const THREADS = 2
const CALLERS = 64
const PAYLOAD_BYTES = 256 * 1024
/** Each mode runs this long per round; the rounds alternate the modes so they share the load. */
const ROUND_MS = 1_000
const ROUNDS = 8
const task = new URL('../lib/workers/offload-task.mjs', import.meta.url)

/** A JSON order document of about PAYLOAD_BYTES, with a few invalid items. */
function payload(): string {
  const items: unknown[] = []
  let size = 0
  for (let i = 0; size < PAYLOAD_BYTES; i++) {
    const item = {
      id: `order-${i.toString(36).padStart(6, '0')}`,
      quantity: i % 97 === 0 ? 0 : (i % 9) + 1,
      price: (i % 1_000) / 7,
      currency: ['EUR', 'USD', 'GBP', 'JPY'][i % 4],
      email: i % 113 === 0 ? 'not-an-email' : `buyer${i}@example.com`,
      tags: ['gift', 'express', 'fragile'].slice(0, i % 4),
      note: 'leave at the door '.repeat(i % 5),
    }
    items.push(item)
    size += JSON.stringify(item).length + 1
  }
  return JSON.stringify({ items })
}

interface Sample {
  tasks: number
  elapsedMs: number
  latencies: number[]
  /** Event-loop delays of the main thread, ms. */
  stallMax: number
  stallP99: number
  /** Share of the time the main thread's event loop was busy (0..1). */
  busy: number
}

/**
 * CALLERS callers each call `run` in a loop until ROUND_MS has passed; without `run`, the probe
 * alone measures the stalls a loaded machine causes by itself.
 */
async function drive(run: (() => Promise<unknown>) | undefined): Promise<Sample> {
  const delay = monitorEventLoopDelay({ resolution: 1 })
  const latencies: number[] = []
  const started = performance.now()
  const deadline = started + ROUND_MS
  const caller = async (work: () => Promise<unknown>) => {
    while (performance.now() < deadline) {
      const sent = performance.now()
      await work()
      latencies.push(performance.now() - sent)
    }
  }
  const elu = performance.eventLoopUtilization()
  delay.enable()
  if (run === undefined) await new Promise((resolve) => setTimeout(resolve, ROUND_MS))
  else await Promise.all(Array.from({ length: CALLERS }, () => caller(run)))
  delay.disable()
  const busy = performance.eventLoopUtilization(elu).utilization
  return {
    tasks: latencies.length,
    elapsedMs: performance.now() - started,
    latencies,
    stallMax: delay.max / 1e6,
    stallP99: delay.percentile(99) / 1e6,
    busy,
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!
const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length
const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!

export default defineScenario({
  name: 'concurrency/workers-offload',
  description: `${CALLERS} concurrent callers validate and hash a ${PAYLOAD_BYTES / 1024} KB JSON document for ${ROUNDS} × ${ROUND_MS / 1000} s per mode (interleaved rounds, order rotating): on the main thread, through raw piscina and through hotpath createWorkerPool (${THREADS} warm threads each), beside the probe alone; throughput, caller latency and the main thread's event-loop stalls (monitorEventLoopDelay, 1 ms resolution; worst round's p99) and busy share (eventLoopUtilization)`,
  async measure() {
    const json = payload()
    const hotpath = createWorkerPool<string, unknown>({
      filename: task,
      minThreads: THREADS,
      maxThreads: THREADS,
      maxQueue: CALLERS,
      name: 'offload',
    })
    const piscina = new Piscina({ filename: task.href, minThreads: THREADS, maxThreads: THREADS })
    // On the main thread each call is its own macrotask, as a request handler doing the work
    // inline would be: the event loop turns between calls, but not during one.
    const inline = () => new Promise((resolve) => setImmediate(() => resolve(validateAndHash(json))))
    const modes: Record<string, (() => Promise<unknown>) | undefined> = {
      'no tasks (probe only)': undefined,
      'main thread': inline,
      'piscina (raw)': () => piscina.run(json),
      'hotpath createWorkerPool': () => hotpath.run(json),
    }
    const samples: Record<string, Sample[]> = Object.fromEntries(Object.keys(modes).map((name) => [name, []]))
    try {
      // Warm-up: JIT, thread start-up, the document's first parse in each thread.
      for (const run of Object.values(modes)) if (run) await Promise.all(Array.from({ length: 8 }, run))
      const single: number[] = []
      for (let i = 0; i < 20; i++) {
        const t0 = performance.now()
        validateAndHash(json)
        single.push(performance.now() - t0)
      }
      for (let round = 0; round < ROUNDS; round++) {
        // The order rotates every round, so no mode always follows the main-thread mode's garbage.
        const order = Object.entries(modes)
        for (let i = 0; i < order.length; i++) {
          const [name, run] = order[(i + round) % order.length]!
          samples[name]!.push(await drive(run))
        }
      }
      const rate = (name: string) => {
        const all = samples[name]!
        return all.reduce((n, s) => n + s.tasks, 0) / (all.reduce((t, s) => t + s.elapsedMs, 0) / 1000)
      }
      const base = rate('piscina (raw)')
      const piscinaRounds = samples['piscina (raw)']!
      single.sort((a, b) => a - b)
      return Object.keys(modes).map((name): MeasureRow => {
        const all = samples[name]!
        const latencies = all.flatMap((s) => s.latencies).sort((a, b) => a - b)
        if (latencies.length === 0) {
          return {
            name,
            'tasks/s': '–',
            'time per task vs piscina': '–',
            'per-round median vs piscina': '–',
            'caller p50 ms': '–',
            'caller p99 ms': '–',
            'longest stall ms': Math.max(...all.map((s) => s.stallMax)),
            'stall p99 ms': Math.max(...all.map((s) => s.stallP99)),
            'main thread busy %': mean(all.map((s) => s.busy * 100)),
            'one task inline ms': '–',
          }
        }
        return {
          name,
          'tasks/s': rate(name),
          'time per task vs piscina': base / rate(name),
          'per-round median vs piscina': median(
            all.map(
              (s, round) =>
                s.elapsedMs / s.tasks / (piscinaRounds[round]!.elapsedMs / piscinaRounds[round]!.tasks),
            ),
          ),
          'caller p50 ms': percentile(latencies, 50),
          'caller p99 ms': percentile(latencies, 99),
          'longest stall ms': Math.max(...all.map((s) => s.stallMax)),
          'stall p99 ms': Math.max(...all.map((s) => s.stallP99)),
          'main thread busy %': mean(all.map((s) => s.busy * 100)),
          'one task inline ms': percentile(single, 50),
        }
      })
    } finally {
      await Promise.all([hotpath.close(), piscina.close()])
    }
  },
})
