import { faultProxy, needService, redisUrl, startRedis, uniquePrefix } from '@hotpath/test-utils'
import { describe, expect, it } from 'vitest'
import { CacheLoaderTimeoutError, type CacheOptions } from '../src/index'
import { type Instance, instance, shutdown, until } from './helpers'

const HARD = 150
const L2_TIMEOUT = 50
// The hard timeout plus one L2 budget (the write after a load goes on in the background), with
// room for a loaded 2-core machine running 500 operations at once; the slow loaders take 5 s,
// so waiting on them would break this bound.
const MISS_BOUND = HARD + L2_TIMEOUT + 750
const options: CacheOptions = {
  ttl: '1m',
  grace: '1h',
  l2Timeout: L2_TIMEOUT,
  breaker: { threshold: 3, cooldown: '200ms' },
  timeouts: { soft: '20ms', hard: HARD },
  failSafeRetry: '1s',
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Reads through `a` until its breaker has closed again and its client is ready. */
async function untilBreakerClosed(a: Instance) {
  await until(async () => {
    await a.cache.get('probe')
    return a.cache.stats().l2.breaker === 'closed' && a.client.status === 'ready'
  }, 10_000)
}

/** Writes on `a` reach `b` again (its L1 dropped over the bus, the new value read from L2). */
async function expectWritesReach(a: Instance, b: Instance) {
  // l2Timeout is 50 ms: on a loaded machine a single write may still time out, so retry briefly
  for (const value of [1, 2]) {
    await until(async () => {
      await a.cache.set('after', value)
      return (await b.cache.get('after')) === value
    }, 5_000)
  }
}

/** Runs 10,000 mixed reads against `a`, calling `fault()` after the first 500. */
async function mixedReads(a: Instance, fault: () => Promise<void> | void) {
  for (let i = 0; i < 50; i++) {
    await a.cache.set(`hot:${i}`, i)
    await a.cache.set(`grace:${i}`, i, { ttl: 1 })
  }
  await sleep(5)
  const failures: unknown[] = []
  let missMaxMs = 0
  let missErrors = 0
  let missLoaded = 0
  const failing = async (): Promise<number> => {
    throw new Error('database down too')
  }
  const slowOrFast = (i: number) => () =>
    i % 2 === 0 ? i : new Promise<number>((resolve) => setTimeout(() => resolve(i), 5_000))
  const op = async (i: number) => {
    const kind = i % 3
    const started = performance.now()
    try {
      if (kind === 0) {
        const value = await a.cache.get(`hot:${i % 50}`)
        if (value !== i % 50) failures.push(new Error(`hot:${i % 50} gave ${String(value)}`))
      } else if (kind === 1) {
        const value = await a.cache.getOrSet(`grace:${i % 50}`, failing)
        if (value !== i % 50) failures.push(new Error(`grace:${i % 50} gave ${String(value)}`))
      } else {
        await a.cache.getOrSet(`miss:${i}`, slowOrFast(i))
        missLoaded++
      }
    } catch (error) {
      if (kind === 2 && error instanceof CacheLoaderTimeoutError) missErrors++
      else failures.push(error)
    }
    if (kind === 2) missMaxMs = Math.max(missMaxMs, performance.now() - started)
  }
  for (let batch = 0; batch < 20; batch++) {
    await Promise.all(Array.from({ length: 500 }, (_, j) => op(batch * 500 + j)))
    if (batch === 0) await fault()
  }
  return { failures, missMaxMs, missErrors, missLoaded }
}

describe.runIf(await needService('redis'))('Redis faults', () => {
  it('Redis killed during 10,000 mixed reads: L1 and grace answer, misses settle in time, then it heals', async () => {
    const server = await startRedis()
    const prefix = uniquePrefix('kill')
    const a = await instance(server.url, prefix, options)
    const b = await instance(server.url, prefix, options)
    try {
      const result = await mixedReads(a, () => server.kill())
      expect(result.failures).toEqual([])
      expect(result.missErrors + result.missLoaded).toBe(3_333)
      expect(result.missErrors).toBeGreaterThan(0)
      // the loader's hard timeout plus at most one L2 budget
      expect(result.missMaxMs).toBeLessThan(MISS_BOUND)

      await server.restart()
      await untilBreakerClosed(a)
      await until(
        () => a.cache.stats().bus!.resubscribes >= 1 && b.cache.stats().bus!.resubscribes >= 1,
        10_000,
      )
      await expectWritesReach(a, b)
    } finally {
      await shutdown(a, b)
      await server.stop()
    }
  })

  it('Redis black-holed (accepts, never answers): same guarantees, then it heals after pass()', async () => {
    const target = new URL(redisUrl())
    const proxy = await faultProxy({ host: target.hostname, port: Number(target.port || 6379) })
    const url = `redis://${proxy.host}:${proxy.port}`
    const prefix = uniquePrefix('hole')
    const a = await instance(url, prefix, options)
    const b = await instance(url, prefix, options)
    try {
      const result = await mixedReads(a, () => proxy.blackHole())
      expect(result.failures).toEqual([])
      expect(result.missMaxMs).toBeLessThan(MISS_BOUND)
      const stats = a.cache.stats()
      expect(stats.l2.timeouts).toBeGreaterThan(0)
      expect(stats.l2.breakerOpens).toBeGreaterThan(0)
      const receivedBefore = a.cache.stats().bus!.received
      await b.cache.set('queued', 1) // its invalidation is published while Redis does not answer

      proxy.pass()
      await untilBreakerClosed(a)
      // the publish that hung is sent again once b's connection is back
      await until(() => a.cache.stats().bus!.received > receivedBefore, 10_000)
      await until(() => b.client.status === 'ready', 10_000)
      await expectWritesReach(a, b)
    } finally {
      await shutdown(a, b)
      await proxy.close()
    }
  })
})
