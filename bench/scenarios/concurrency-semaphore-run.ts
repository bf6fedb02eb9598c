import { Semaphore } from '@hotpath/concurrency'
import { Sema } from 'async-sema'
import pLimit from 'p-limit'
import { defineScenario } from '../lib/scenario'

const TASKS = 100_000
const CONCURRENCY = 16
const task = async () => {}

export default defineScenario(() => ({
  name: 'concurrency/semaphore-run',
  description: '100,000 trivial async tasks queued at once, concurrency 16 (per-task figures)',
  baseline: 'p-limit',
  opsPerRun: TASKS,
  time: 3_000,
  tasks: {
    'hotpath Semaphore.run': async () => {
      const sem = new Semaphore({ permits: CONCURRENCY, maxQueue: Number.POSITIVE_INFINITY })
      const all = new Array<Promise<void>>(TASKS)
      for (let i = 0; i < TASKS; i++) all[i] = sem.run(task)
      await Promise.all(all)
    },
    'p-limit': async () => {
      const limit = pLimit(CONCURRENCY)
      const all = new Array<Promise<void>>(TASKS)
      for (let i = 0; i < TASKS; i++) all[i] = limit(task)
      await Promise.all(all)
    },
    'async-sema': async () => {
      const sema = new Sema(CONCURRENCY)
      const run = async () => {
        await sema.acquire()
        try {
          await task()
        } finally {
          sema.release()
        }
      }
      const all = new Array<Promise<void>>(TASKS)
      for (let i = 0; i < TASKS; i++) all[i] = run()
      await Promise.all(all)
    },
    'bare Promise.all (no limit)': async () => {
      const all = new Array<Promise<void>>(TASKS)
      for (let i = 0; i < TASKS; i++) all[i] = task()
      await Promise.all(all)
    },
  },
}))
