import { getTimerService, setClock, setTimers, type TimerProvider } from '@hotpath/core'
import { type ManualTime, manualTime } from '@hotpath/test-utils'
import { Redis, type RedisOptions } from 'ioredis'
import { expect } from 'vitest'
import { type Cache, type CacheOptions, createCache } from '../src/index'
import { redisBus, redisStore } from '../src/redis'

/** Polls `check` every 2 ms until it returns true; returns the elapsed ms or throws after `timeout`. */
export async function until(check: () => boolean | Promise<boolean>, timeout = 2_000): Promise<number> {
  const started = performance.now()
  while (!(await check())) {
    if (performance.now() - started > timeout) throw new Error(`condition not met within ${timeout} ms`)
    await new Promise((r) => setTimeout(r, 2))
  }
  return performance.now() - started
}

export const clientOptions: RedisOptions = {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  retryStrategy: () => 50,
  connectTimeout: 500,
}

export async function connect(url: string, options: RedisOptions = {}): Promise<Redis> {
  const client = new Redis(url, { ...clientOptions, ...options })
  client.on('error', () => {})
  await until(() => client.status === 'ready', 5_000)
  return client
}

export interface Instance {
  client: Redis
  cache: Cache
}

/** One "app instance": its own connection, store, bus and cache. */
export async function instance(url: string, prefix: string, options: CacheOptions = {}): Promise<Instance> {
  const client = await connect(url)
  const cache = createCache({
    l2: redisStore({ client, prefix }),
    bus: redisBus({ client, channel: `${prefix}bus` }),
    l2Timeout: '2s',
    ...options,
  })
  await until(() => cache.stats().bus?.connected === true, 5_000)
  return { client, cache }
}

export async function shutdown(...instances: Instance[]): Promise<void> {
  for (const { cache, client } of instances) {
    await cache.close()
    client.disconnect()
  }
}

/** Lets promise callbacks and the cache's microtask batches run (real time, a few event-loop turns). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve))
}

/**
 * Makes `store` stop answering and starts `cache.get(key)` on it: the read can only end by its
 * `l2Timeout`. `settled()` tells whether it has.
 */
export function hangingGet(
  cache: Cache,
  store: { mode: string },
  key: string,
): { read: Promise<unknown>; settled: () => boolean } {
  store.mode = 'hang'
  let done = false
  const read = cache.get(key).finally(() => {
    done = true
  })
  return { read, settled: () => done }
}

/**
 * Moves `time` on by `ms` - 1 and then by 1: a read from {@link hangingGet} must still wait at
 * the first step and end at the second, as a miss (an L2 call past its deadline).
 */
export async function expectTimeoutAfter(
  time: ManualTime,
  hanging: ReturnType<typeof hangingGet>,
  ms: number,
): Promise<void> {
  time.advance(ms - 1)
  await settle()
  expect(hanging.settled()).toBe(false)
  time.advance(1)
  expect(await hanging.read).toBeUndefined()
}

/**
 * Puts a clock and timers moved by hand in place of the real ones (put back with `restoreTime`);
 * `wrap` may stand between the timer service and the fake timers, to watch what it arms.
 */
export function useManualTime(wrap?: (timers: TimerProvider) => TimerProvider): ManualTime {
  const time = manualTime({ wallStart: 1_700_000_000_000 })
  setClock(time.clock)
  setTimers(wrap === undefined ? time.timers : wrap(time.timers))
  return time
}

/** Puts the real clock and timers back after `useManualTime`. */
export function restoreTime(): void {
  setClock()
  setTimers()
}

/** Entries waiting on the process-wide timer service. */
export const pendingEntries = (): number => getTimerService().stats().pending
