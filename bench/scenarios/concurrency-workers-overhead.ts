import { createWorkerPool } from '@hotpath/concurrency/workers'
import { Piscina } from 'piscina'
import { defineScenario } from '../lib/scenario'

const THREADS = 2
const BATCH = 256
const ROUNDS = 30
/** Loop length of the small CPU task, as in concurrency/workers. */
const CPU_N = 100_000
const task = new URL('../lib/workers/task.mjs', import.meta.url)

/** Milliseconds to run BATCH tasks of size `n` through `run`, all submitted at once. */
async function timeBatch(run: (n: number) => Promise<unknown>, n: number): Promise<number> {
  const started = performance.now()
  const all = new Array<Promise<unknown>>(BATCH)
  for (let i = 0; i < BATCH; i++) all[i] = run(n)
  await Promise.all(all)
  return performance.now() - started
}

const median = (values: number[]) => values.sort((a, b) => a - b)[values.length >> 1]!

export default defineScenario({
  name: 'concurrency/workers-overhead',
  description: `hotpath createWorkerPool vs raw piscina, ${ROUNDS} interleaved rounds of ${BATCH} tasks on ${THREADS} warm threads (median µs per task): alternating the two in every round keeps a shared machine's load changes out of the ratio`,
  async measure() {
    const hotpath = createWorkerPool<number, number>({
      filename: task,
      minThreads: THREADS,
      maxThreads: THREADS,
      maxQueue: BATCH,
    })
    const piscina = new Piscina({ filename: task.href, minThreads: THREADS, maxThreads: THREADS })
    const runs = {
      'piscina (raw)': (n: number) => piscina.run(n),
      'hotpath createWorkerPool': (n: number) => hotpath.run(n),
    }
    const rows = []
    try {
      for (const [kind, n] of [
        ['trivial task', 0],
        ['small CPU task', CPU_N],
      ] as const) {
        const times: Record<string, number[]> = { 'piscina (raw)': [], 'hotpath createWorkerPool': [] }
        for (const run of Object.values(runs)) for (let i = 0; i < 5; i++) await timeBatch(run, n)
        for (let round = 0; round < ROUNDS; round++) {
          for (const [name, run] of Object.entries(runs)) times[name]!.push(await timeBatch(run, n))
        }
        const base = median(times['piscina (raw)']!)
        for (const [name, values] of Object.entries(times)) {
          const m = median(values)
          rows.push({ name: `${name}: ${kind}`, 'µs per task': (m / BATCH) * 1000, 'vs piscina': m / base })
        }
      }
    } finally {
      await Promise.all([hotpath.close(), piscina.close()])
    }
    return rows
  },
})
