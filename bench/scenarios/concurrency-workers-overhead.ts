import { createWorkerPool } from '@hotpath/concurrency/workers'
import { Piscina } from 'piscina'
import { defineScenario } from '../lib/scenario'

const THREADS = 2
const BATCH = 256
const ROUNDS = 30
/** Loop length of the small CPU task, as in concurrency/workers. */
const CPU_N = 100_000
const task = new URL('../lib/workers/task.mjs', import.meta.url)

/**
 * Runs BATCH tasks of size `n` through `run`, all submitted at once; returns the wall-clock
 * milliseconds and the main thread's active (non-idle event loop) milliseconds. The second is the
 * work the pool does on the main thread, which a busy machine inflates far less than wall-clock
 * time, since waiting for the workers counts as idle.
 */
async function timeBatch(run: (n: number) => Promise<unknown>, n: number): Promise<[number, number]> {
  const elu = performance.eventLoopUtilization()
  const started = performance.now()
  const all = new Array<Promise<unknown>>(BATCH)
  for (let i = 0; i < BATCH; i++) all[i] = run(n)
  await Promise.all(all)
  const wall = performance.now() - started
  return [wall, performance.eventLoopUtilization(elu).active]
}

const median = (values: number[]) => values.sort((a, b) => a - b)[values.length >> 1]!

export default defineScenario({
  name: 'concurrency/workers-overhead',
  description: `hotpath createWorkerPool vs raw piscina, ${ROUNDS} interleaved rounds of ${BATCH} tasks on ${THREADS} warm threads (median µs per task, wall-clock and main-thread active time): alternating the two in every round keeps a shared machine's load changes out of the ratio`,
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
        const walls: Record<string, number[]> = { 'piscina (raw)': [], 'hotpath createWorkerPool': [] }
        const actives: Record<string, number[]> = { 'piscina (raw)': [], 'hotpath createWorkerPool': [] }
        for (const run of Object.values(runs)) for (let i = 0; i < 5; i++) await timeBatch(run, n)
        for (let round = 0; round < ROUNDS; round++) {
          for (const [name, run] of Object.entries(runs)) {
            const [wall, active] = await timeBatch(run, n)
            walls[name]!.push(wall)
            actives[name]!.push(active)
          }
        }
        const baseWall = median(walls['piscina (raw)']!)
        const baseActive = median(actives['piscina (raw)']!)
        for (const name of Object.keys(runs)) {
          const wall = median(walls[name]!)
          const active = median(actives[name]!)
          rows.push({
            name: `${name}: ${kind}`,
            'wall µs per task': (wall / BATCH) * 1000,
            'wall vs piscina': wall / baseWall,
            'main-thread µs per task': (active / BATCH) * 1000,
            'main-thread vs piscina': active / baseActive,
          })
        }
      }
    } finally {
      await Promise.all([hotpath.close(), piscina.close()])
    }
    return rows
  },
})
