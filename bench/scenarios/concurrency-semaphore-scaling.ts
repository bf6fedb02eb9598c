import { Semaphore } from '@hotpath/concurrency'
import pLimit from 'p-limit'
import { defineScenario } from '../lib/scenario'

const task = async () => {}
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {})

/** Per-task ns to push `queued` tasks through a semaphore of 16 permits, all queued at once. */
async function perTask(queued: number, mode: 'fifo' | 'priority' | 'p-limit'): Promise<number> {
  const rounds = Math.max(3, Math.round(300_000 / queued))
  const samples: number[] = []
  for (let r = 0; r < rounds + 1; r++) {
    gc()
    const sem = new Semaphore({ permits: 16, maxQueue: Number.POSITIVE_INFINITY })
    const limit = pLimit(16)
    const all = new Array<Promise<void>>(queued)
    const started = performance.now()
    if (mode === 'priority') for (let i = 0; i < queued; i++) all[i] = sem.run(task, { priority: i % 10 })
    else if (mode === 'fifo') for (let i = 0; i < queued; i++) all[i] = sem.run(task)
    else for (let i = 0; i < queued; i++) all[i] = limit(task)
    await Promise.all(all)
    if (r > 0) samples.push(((performance.now() - started) * 1e6) / queued)
  }
  samples.sort((a, b) => a - b)
  return samples[Math.floor(samples.length / 2)]!
}

export default defineScenario(() => ({
  name: 'concurrency/semaphore-scaling',
  description: 'per-task cost with 1,000 vs 100,000 waiters queued at once (median of runs, ns)',
  measure: async () => {
    const rows = []
    const names = {
      fifo: 'hotpath FIFO (one priority)',
      priority: 'hotpath priorities 0..9',
      'p-limit': 'p-limit (reference)',
    }
    for (const mode of ['fifo', 'priority', 'p-limit'] as const) {
      const small = await perTask(1_000, mode)
      const large = await perTask(100_000, mode)
      rows.push({
        name: names[mode],
        'ns/task @1k queued': Math.round(small),
        'ns/task @100k queued': Math.round(large),
        'ratio 100k/1k': Math.round((large / small) * 100) / 100,
      })
    }
    return rows
  },
}))
