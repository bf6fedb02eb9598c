import { redisSemaphore } from '@hotpath/concurrency/redis'
import { Redis } from 'ioredis'
import { defineScenario } from '../lib/scenario'

const WORKERS = 4
const ROUNDS = 25
const HOLD_MS = 20
const THINK_MS = 10

/**
 * One permit passed between 4 instances, each taking it 25 times, holding it 20 ms and pausing
 * 10 ms before asking again (so a release finds other instances waiting, not its own next
 * acquire): how long a released permit stays unused before the next holder has it (release call
 * → a waiter's acquire resolving), and how many scripts each acquisition costs, with the poll
 * alone (the default `retryInterval` of 50 ms, ±50% jitter) and with release wake-ups.
 */
export default defineScenario(async () => {
  const client = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379')
  await client.ping()
  const run = `${process.pid}-${Date.now()}`
  let scripts = 0
  // Counts the scripts the semaphores send; SUBSCRIBE goes through the duplicate, not counted.
  const counting = {
    get status() {
      return client.status
    },
    evalsha: (...args: Parameters<Redis['evalsha']>) => {
      scripts++
      return client.evalsha(...args)
    },
    eval: (...args: Parameters<Redis['eval']>) => {
      scripts++
      return client.eval(...args)
    },
    duplicate: () => client.duplicate(),
  }
  const percentile = (values: number[], p: number) =>
    [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))]!
  const measureMode = async (wakeOnRelease: boolean) => {
    const key = `wake-${wakeOnRelease}`
    const sems = Array.from({ length: WORKERS }, () =>
      redisSemaphore({ client: counting, key, permits: 1, prefix: `hp:bench:${run}:`, wakeOnRelease }),
    )
    const gaps: number[] = []
    let releasedAt: number | undefined
    scripts = 0
    await Promise.all(
      sems.map(async (sem) => {
        for (let i = 0; i < ROUNDS; i++) {
          const lease = await sem.acquire({ timeout: '30s' })
          if (releasedAt !== undefined) gaps.push(performance.now() - releasedAt)
          await new Promise((r) => setTimeout(r, HOLD_MS))
          releasedAt = performance.now()
          await lease.release()
          await new Promise((r) => setTimeout(r, THINK_MS))
        }
      }),
    )
    const acquisitions = WORKERS * ROUNDS
    return {
      name: wakeOnRelease
        ? 'wake-ups over pub/sub (wakeOnRelease: true)'
        : 'poll only (wakeOnRelease: false)',
      'wake p50 ms': Math.round(percentile(gaps, 0.5) * 100) / 100,
      'wake p99 ms': Math.round(percentile(gaps, 0.99) * 100) / 100,
      'scripts per acquire': Math.round((scripts / acquisitions) * 100) / 100,
    }
  }
  return {
    name: 'concurrency/redis-semaphore-wake',
    description: `1 permit, ${WORKERS} instances × ${ROUNDS} acquisitions holding ${HOLD_MS} ms, ${THINK_MS} ms between: release → next holder latency and scripts per acquisition`,
    measure: async () => [
      await measureMode(false),
      await measureMode(true),
      await measureMode(false),
      await measureMode(true),
    ],
    teardown: () => {
      client.disconnect()
    },
  }
})
