import { createWorkerPool } from '@hotpath/concurrency/workers'
import { Piscina } from 'piscina'
import { Tinypool } from 'tinypool'
import workerpool from 'workerpool'
import { defineScenario } from '../lib/scenario'

const THREADS = 2
const BATCH = 256
/** Loop length of the small CPU task: about 0.1 ms of work per task. */
const CPU_N = 100_000
const task = new URL('../lib/workers/task.mjs', import.meta.url)
const workerpoolTask = new URL('../lib/workers/workerpool-task.mjs', import.meta.url)

/** Runs BATCH tasks of size `n` through `run` at once and waits for all. */
function batch(run: (n: number) => Promise<unknown>, n: number): () => Promise<unknown> {
  return () => {
    const all = new Array<Promise<unknown>>(BATCH)
    for (let i = 0; i < BATCH; i++) all[i] = run(n)
    return Promise.all(all)
  }
}

export default defineScenario(async () => {
  // Every pool keeps THREADS warm threads, so thread start-up is outside the timings.
  const hotpath = createWorkerPool<number, number>({
    filename: task,
    minThreads: THREADS,
    maxThreads: THREADS,
    maxQueue: BATCH,
    name: 'bench',
  })
  const piscina = new Piscina({ filename: task.href, minThreads: THREADS, maxThreads: THREADS })
  const tinypool = new Tinypool({ filename: task.href, minThreads: THREADS, maxThreads: THREADS })
  const wp = workerpool.pool(workerpoolTask.pathname, {
    minWorkers: THREADS,
    maxWorkers: THREADS,
    workerType: 'thread',
  })
  const runs: Record<string, (n: number) => Promise<unknown>> = {
    'piscina (raw)': (n) => piscina.run(n),
    'hotpath createWorkerPool': (n) => hotpath.run(n),
    tinypool: (n) => tinypool.run(n),
    workerpool: (n) => wp.exec('work', [n]),
  }
  for (const run of Object.values(runs)) await Promise.all([run(0), run(0), run(CPU_N)])
  const tasks: Record<string, () => unknown> = {}
  for (const [name, run] of Object.entries(runs)) tasks[`${name}: trivial task`] = batch(run, 0)
  for (const [name, run] of Object.entries(runs)) tasks[`${name}: small CPU task`] = batch(run, CPU_N)
  return {
    name: 'concurrency/workers',
    description: `${BATCH} tasks submitted at once to ${THREADS} warm worker threads, per-task figures; trivial = echo, small CPU = a ${CPU_N.toLocaleString('en')}-step loop. Ratios of the CPU rows are against the trivial baseline, so compare CPU rows with each other`,
    baseline: 'piscina (raw): trivial task',
    opsPerRun: BATCH,
    time: 2_000,
    warmupTime: 500,
    tasks,
    teardown: async () => {
      await Promise.all([hotpath.close(), piscina.close(), tinypool.destroy(), wp.terminate()])
    },
  }
})
