import { Semaphore } from '@hotpath/concurrency'
import pLimit from 'p-limit'
import { defineScenario } from '../lib/scenario'

const OPS = 10_000
const task = async () => {}

export default defineScenario(() => {
  const sem = new Semaphore({ permits: 16 })
  const limit = pLimit(16)
  return {
    name: 'concurrency/semaphore-uncontended',
    description: '10,000 trivial async tasks run one after another, a permit always free (per-task figures)',
    baseline: 'p-limit',
    opsPerRun: OPS,
    tasks: {
      'hotpath Semaphore.run': async () => {
        for (let i = 0; i < OPS; i++) await sem.run(task)
      },
      'p-limit': async () => {
        for (let i = 0; i < OPS; i++) await limit(task)
      },
    },
  }
})
