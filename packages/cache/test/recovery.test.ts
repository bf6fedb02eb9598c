import { faultProxy, needService, redisUrl, startRedis, uniquePrefix } from '@hotpath/test-utils'
import { Redis } from 'ioredis'
import { describe, expect, it } from 'vitest'
import { type CacheOptions, createCache, jsonCodec } from '../src/index'
import { redisBus, redisStore } from '../src/redis'
import { clientOptions, connect, type Instance, instance, shutdown, until } from './helpers'

const options: CacheOptions = {
  ttl: '1m',
  l2Timeout: 100,
  breaker: { threshold: 3, cooldown: '200ms' },
}
const KEYS = 100
const codec = jsonCodec()

/** What Redis holds for a key of the default cache: the value, or undefined when there is none. */
async function stored(client: Redis, prefix: string, key: string): Promise<unknown> {
  const data = await client.getBuffer(`${prefix}cache:${codec.id}:${key}`)
  return data === null ? undefined : (codec.decode(data) as unknown[])[0]
}

/** 100 plain keys, 10 keys to delete and 10 tagged keys, written by `a` and read by `b` (in its L1). */
async function seed(a: Instance, b: Instance) {
  for (let i = 0; i < KEYS; i++) await a.cache.set(`k${i}`, 'v1')
  for (let i = 0; i < 10; i++) await a.cache.set(`del${i}`, 'v1')
  for (let i = 0; i < 10; i++) await a.cache.set(`tagged${i}`, 'v1', { tags: ['group'] })
  const keys = [
    ...Array.from({ length: KEYS }, (_, i) => `k${i}`),
    ...Array.from({ length: 10 }, (_, i) => `del${i}`),
    ...Array.from({ length: 10 }, (_, i) => `tagged${i}`),
  ]
  // l2Timeout is 100 ms: on a loaded machine a read may time out, so each one is retried briefly
  for (const key of keys) await until(async () => (await b.cache.get(key)) === 'v1', 5_000)
  await until(() => a.cache.stats().recovery.queued === 0, 5_000)
}

/** Every change `a` makes while L2 is away, one after the other (the breaker opens); each resolves. */
async function changeDuringOutage(a: Instance) {
  const started = performance.now()
  for (let i = 0; i < KEYS; i++) await a.cache.set(`k${i}`, 'v2')
  await a.cache.deleteMany(Array.from({ length: 10 }, (_, i) => `del${i}`))
  await a.cache.invalidateTags(['group'])
  // The open breaker skips L2: a few l2Timeouts in all. Waiting one per change would take
  // KEYS × 100 ms = 10 s; half of that leaves room for a loaded machine.
  expect(performance.now() - started).toBeLessThan((KEYS * 100) / 2)
  for (let i = 0; i < KEYS; i++) expect(await a.cache.get(`k${i}`)).toBe('v2')
}

/** After recovery: both instances and Redis agree on every key. */
async function expectConverged(a: Instance, b: Instance, redis: Redis, prefix: string, dropped: boolean) {
  await until(() => a.cache.stats().recovery.queued === 0, 15_000)
  const check = async () => {
    const wrong: string[] = []
    for (let i = 0; i < KEYS; i++) {
      const key = `k${i}`
      const inRedis = await stored(redis, prefix, key)
      const fromA = await a.cache.get(key)
      const fromB = await b.cache.get(key)
      // An overflowed key is deleted from Redis: never the old value, anywhere.
      const ok = dropped
        ? (inRedis === 'v2' || inRedis === undefined) && fromB === inRedis && fromA !== 'v1'
        : inRedis === 'v2' && fromA === 'v2' && fromB === 'v2'
      if (!ok) wrong.push(`${key}: redis=${inRedis} a=${fromA} b=${fromB}`)
    }
    for (let i = 0; i < 10; i++) {
      const key = `del${i}`
      const values = [await stored(redis, prefix, key), await a.cache.get(key), await b.cache.get(key)]
      if (values.some((value) => value !== undefined)) wrong.push(`${key}: ${values.join(',')}`)
      const tagged = `tagged${i}`
      const reads = [await a.cache.get(tagged), await b.cache.get(tagged)]
      if (reads.some((value) => value !== undefined)) wrong.push(`${tagged}: ${reads.join(',')}`)
    }
    return wrong
  }
  // The replay's bus message reaches b within moments; a TTL (1 minute) is far away.
  let wrong: string[] = ['not checked']
  await until(async () => {
    wrong = await check().catch((error: unknown) => [`check failed: ${error}`])
    return wrong.length === 0
  }, 3_000).catch(() => {})
  expect(wrong).toEqual([])
  if (!dropped) expect(Number(await redis.get(`${prefix}~tag:cache:group`))).toBe(1)
}

describe.runIf(await needService('redis'))('auto-recovery of changes made while L2 is away', () => {
  it('Redis frozen (SIGSTOP) during 100 sets, deletes and a tag invalidation: replayed after SIGCONT', async () => {
    const server = await startRedis()
    const prefix = uniquePrefix('recover-stop')
    const a = await instance(server.url, prefix, options)
    const b = await instance(server.url, prefix, options)
    const redis = await connect(server.url)
    try {
      await seed(a, b)
      process.kill(server.pid!, 'SIGSTOP')
      try {
        await changeDuringOutage(a)
        expect(a.cache.stats().recovery.queued).toBe(KEYS + 10 + 1)
      } finally {
        process.kill(server.pid!, 'SIGCONT')
      }
      await expectConverged(a, b, redis, prefix, false)
      expect(a.cache.stats().recovery).toMatchObject({ queued: 0, replayed: KEYS + 10 + 1, dropped: 0 })
      // a frozen server keeps its data: the tagged values are still stored, only outdated by the tag
      expect(await stored(redis, prefix, 'tagged0')).toBe('v1')
    } finally {
      await shutdown(a, b)
      redis.disconnect()
      await server.stop()
    }
  })

  it('Redis killed (SIGKILL) during the changes and restarted empty: the queue is replayed into it', async () => {
    const server = await startRedis()
    const prefix = uniquePrefix('recover-kill')
    const a = await instance(server.url, prefix, options)
    const b = await instance(server.url, prefix, options)
    const redis = await connect(server.url)
    try {
      await seed(a, b)
      // b holds every seeded key in its L1; the restarted server keeps nothing (no persistence)
      await server.kill()
      await changeDuringOutage(a)
      expect(a.cache.stats().recovery.queued).toBe(KEYS + 10 + 1)
      const resubscribes = b.cache.stats().bus!.resubscribes
      await server.restart()
      await until(() => redis.status === 'ready', 5_000)
      // a's queue fills the empty server; b's subscription reconnects, so its L1 copies of v1
      // stop counting as fresh, and a's replay announces every key it writes
      await expectConverged(a, b, redis, prefix, false)
      // The server did restart empty: a may reconnect and replay before this client does, so
      // emptiness shows in what the replay never writes, the 10 tagged values seeded before
      const tagged = await Promise.all(
        Array.from({ length: 10 }, (_, i) => stored(redis, prefix, `tagged${i}`)),
      )
      expect(tagged).toEqual(Array(10).fill(undefined))
      expect(a.cache.stats().recovery).toMatchObject({ queued: 0, replayed: KEYS + 10 + 1, dropped: 0 })
      expect(b.cache.stats().bus!.resubscribes).toBeGreaterThan(resubscribes)
    } finally {
      await shutdown(a, b)
      redis.disconnect()
      await server.stop()
    }
  })

  it('Redis black-holed during the changes, then passing again: replayed', async () => {
    const target = new URL(redisUrl())
    const proxy = await faultProxy({ host: target.hostname, port: Number(target.port || 6379) })
    const url = `redis://${proxy.host}:${proxy.port}`
    const prefix = uniquePrefix('recover-hole')
    const a = await instance(url, prefix, options)
    const b = await instance(url, prefix, options)
    const redis = await connect(redisUrl())
    try {
      await seed(a, b)
      proxy.blackHole()
      await changeDuringOutage(a)
      proxy.pass()
      await expectConverged(a, b, redis, prefix, false)
    } finally {
      await shutdown(a, b)
      redis.disconnect()
      await proxy.close()
    }
  })

  it.each([
    [60, 'deleted from Redis by name'],
    [20, 'cleared from Redis with the whole cache'],
  ])('recoveryQueue: %i — overflowed keys are %s and announced, never left old', async (recoveryQueue) => {
    const target = new URL(redisUrl())
    const proxy = await faultProxy({ host: target.hostname, port: Number(target.port || 6379) })
    const url = `redis://${proxy.host}:${proxy.port}`
    const prefix = uniquePrefix('recover-drop')
    const a = await instance(url, prefix, { ...options, recoveryQueue })
    const b = await instance(url, prefix, options)
    const redis = await connect(redisUrl())
    try {
      await seed(a, b)
      proxy.blackHole()
      await changeDuringOutage(a)
      expect(a.cache.stats().recovery.dropped).toBeGreaterThan(0)
      proxy.pass()
      await expectConverged(a, b, redis, prefix, true)
      let deleted = 0
      for (let i = 0; i < KEYS; i++) if ((await stored(redis, prefix, `k${i}`)) === undefined) deleted++
      expect(deleted).toBeGreaterThan(0)
    } finally {
      await shutdown(a, b)
      redis.disconnect()
      await proxy.close()
    }
  })

  it('a replayed change never overwrites a newer value another instance wrote after the outage', async () => {
    const server = await startRedis()
    const prefix = uniquePrefix('recover-newer')
    // a's breaker stays open for 2 s: b writes in between, then a replays
    const a = await instance(server.url, prefix, { ...options, breaker: { threshold: 1, cooldown: '2s' } })
    const b = await instance(server.url, prefix, options)
    const redis = await connect(server.url)
    try {
      await a.cache.set('k', 'v1')
      process.kill(server.pid!, 'SIGSTOP')
      try {
        await a.cache.set('k', 'v2')
      } finally {
        process.kill(server.pid!, 'SIGCONT')
      }
      await until(async () => {
        await b.cache.set('k', 'v3').catch(() => {})
        return (await stored(redis, prefix, 'k')) === 'v3'
      }, 5_000)
      await until(() => a.cache.stats().recovery.queued === 0, 10_000)
      expect(await stored(redis, prefix, 'k')).toBe('v3')
      await until(async () => (await a.cache.get('k')) === 'v3', 2_000)
      expect(await b.cache.get('k')).toBe('v3')
    } finally {
      await shutdown(a, b)
      redis.disconnect()
      await server.stop()
    }
  })
})

describe.runIf(await needService('redis'))('one L2 budget per call', () => {
  it('a getOrSet miss in a black hole waits one l2Timeout, and its write is kept for replay', async () => {
    const target = new URL(redisUrl())
    const proxy = await faultProxy({ host: target.hostname, port: Number(target.port || 6379) })
    const url = `redis://${proxy.host}:${proxy.port}`
    const prefix = uniquePrefix('budget')
    // Long enough that one wait plus a loaded machine's delays stays under two waits.
    const L2_TIMEOUT = 1_000
    const a = await instance(url, prefix, { l2Timeout: L2_TIMEOUT })
    try {
      proxy.blackHole()
      const started = performance.now()
      expect(await a.cache.getOrSet('miss', () => 'loaded')).toBe('loaded')
      const elapsed = performance.now() - started
      // a read then an awaited write would take two l2Timeouts
      expect(elapsed).toBeGreaterThanOrEqual(L2_TIMEOUT - 5)
      expect(elapsed).toBeLessThan(L2_TIMEOUT * 2)
      await until(() => a.cache.stats().recovery.queued === 1, 2_000)
      // with tags: read, tag versions and write share the one budget too
      const tagged = performance.now()
      expect(await a.cache.getOrSet('tagged', () => 'loaded', { tags: ['t'] })).toBe('loaded')
      expect(performance.now() - tagged).toBeLessThan(L2_TIMEOUT * 2)
      const set = performance.now()
      await a.cache.set('other', 1, { tags: ['t'] })
      expect(performance.now() - set).toBeLessThan(L2_TIMEOUT * 2)
    } finally {
      proxy.pass()
      await shutdown(a)
      await proxy.close()
    }
  })
})

describe.runIf(await needService('redis'))('a client still connecting', () => {
  it("is waited for within l2Timeout: a new cache's first set is visible to another instance", async () => {
    const server = await startRedis()
    const prefix = uniquePrefix('connecting')
    const b = await instance(server.url, prefix, options)
    const client = new Redis(server.url, clientOptions)
    client.on('error', () => {})
    const cache = createCache({
      l2: redisStore({ client, prefix }),
      bus: redisBus({ client, channel: `${prefix}bus` }),
      l2Timeout: '2s',
    })
    try {
      expect(client.status).not.toBe('ready')
      await cache.set('first', 'v', { tags: ['t'] })
      expect(await b.cache.get('first')).toBe('v')
      await cache.invalidateTags(['t'])
      await until(async () => (await b.cache.get('first')) === undefined, 2_000)
      expect(cache.stats().l2).toMatchObject({ skipped: 0, errors: 0 })
      expect(cache.stats().recovery.queued).toBe(0)
    } finally {
      await cache.close()
      client.disconnect()
      await shutdown(b)
      await server.stop()
    }
  })
})
