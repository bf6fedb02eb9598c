import { Semaphore } from '@hotpath/concurrency'
import PQueue from 'p-queue'
import { defineScenario } from '../lib/scenario'

const TASKS = 20_000
const CONCURRENCY = 16
const task = async () => {}

export default defineScenario(() => {
  // Pre-generated random priorities 0..9 (a fixed LCG, so every run sees the same sequence).
  const priorities = new Array<number>(TASKS)
  let seed = 42
  for (let i = 0; i < TASKS; i++) {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648
    priorities[i] = seed % 10
  }
  return {
    name: 'concurrency/semaphore-priority',
    description: '20,000 trivial tasks with random priorities 0..9, concurrency 16 (per-task figures)',
    baseline: 'p-queue (priority)',
    opsPerRun: TASKS,
    time: 3_000,
    tasks: {
      'hotpath Semaphore.run (priority)': async () => {
        const sem = new Semaphore({ permits: CONCURRENCY, maxQueue: Number.POSITIVE_INFINITY })
        const all = new Array<Promise<void>>(TASKS)
        for (let i = 0; i < TASKS; i++) all[i] = sem.run(task, { priority: priorities[i]! })
        await Promise.all(all)
      },
      'p-queue (priority)': async () => {
        const queue = new PQueue({ concurrency: CONCURRENCY })
        const all = new Array<Promise<void>>(TASKS)
        for (let i = 0; i < TASKS; i++) all[i] = queue.add(task, { priority: priorities[i]! })
        await Promise.all(all)
      },
    },
  }
})
