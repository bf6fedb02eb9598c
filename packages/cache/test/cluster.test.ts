import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { needService, type RedisCluster, startRedisCluster } from '@hotpath/test-utils'
import { Cluster } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { type Cache, createCache } from '../src/index'
import { keySlot, redisBus, redisStore } from '../src/redis'
import { until } from './helpers'

const run = promisify(execFile)

describe.runIf(await needService('redis'))('Redis Cluster (3 masters)', () => {
  let cluster: RedisCluster
  const clients: Cluster[] = []
  const caches: Cache[] = []

  async function node() {
    const client = new Cluster(cluster.startupNodes, {
      enableOfflineQueue: false,
      redisOptions: { maxRetriesPerRequest: 0 },
    })
    client.on('error', () => {})
    clients.push(client)
    await until(() => client.status === 'ready', 10_000)
    const cache = createCache({
      l2: redisStore({ client, prefix: 'c:' }),
      bus: redisBus({ client }),
      l2Timeout: '2s',
    })
    caches.push(cache)
    await until(() => cache.stats().bus?.connected === true, 10_000)
    return { client, cache }
  }

  beforeAll(async () => {
    cluster = await startRedisCluster({ masters: 3 })
  }, 60_000)
  afterAll(async () => {
    for (const cache of caches) await cache.close()
    for (const client of clients) client.disconnect()
    await cluster?.stop()
  })

  async function resetStats() {
    await Promise.all(
      cluster.nodes.map((n) => run('redis-cli', ['-p', String(n.port), 'config', 'resetstat'])),
    )
  }
  /** Calls of `command` on all nodes since the last reset. */
  async function calls(command: string) {
    let total = 0
    for (const n of cluster.nodes) {
      const { stdout } = await run('redis-cli', ['-p', String(n.port), 'info', 'commandstats'])
      total += Number(new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'm').exec(stdout)?.[1] ?? 0)
    }
    return total
  }

  it('concurrent gets of keys on every node: no GET, one MGET per slot, one pipeline per node', async () => {
    const { client } = await node()
    const writer = createCache({ l2Timeout: '2s', l2: redisStore({ client, prefix: 'co:' }) })
    const keys = Array.from({ length: 48 }, (_, i) => `co:${i}`)
    await writer.setMany(keys.map((key, i) => ({ key, value: i })))
    const cache = createCache({ l1: false, l2Timeout: '2s', l2: redisStore({ client, prefix: 'co:' }) })
    const slots = new Set(keys.map((key) => keySlot(`co:cache:j1:${key}`)))
    const pipeline = vi.spyOn(client, 'pipeline')
    await resetStats()
    expect(await Promise.all(keys.map((key) => cache.get(key)))).toEqual(keys.map((_, i) => i))
    expect(await calls('get')).toBe(0)
    expect(await calls('mget')).toBe(slots.size)
    expect(pipeline.mock.calls.length).toBeGreaterThanOrEqual(1)
    expect(pipeline.mock.calls.length).toBeLessThanOrEqual(cluster.nodes.length)
    pipeline.mockRestore()
    await writer.close()
    await cache.close()
  })

  it('get/set/getMany/tags/bus/clear work across slots', async () => {
    const a = await node()
    const b = await node()
    const keys = Array.from({ length: 40 }, (_, i) => `key:${i}`)
    const slots = new Set(keys.map((key) => keySlot(`c:cache:j1:${key}`)))
    expect(slots.size).toBeGreaterThan(10)
    await a.cache.setMany(keys.map((key) => ({ key, value: { key, at: new Date(1) } })))
    const reader = createCache({ l2Timeout: '2s', l2: redisStore({ client: b.client, prefix: 'c:' }) })
    const pipeline = vi.spyOn(b.client, 'pipeline')
    await resetStats()
    const values = await reader.getMany(keys)
    expect(values).toEqual(keys.map((key) => ({ key, at: new Date(1) })))
    // One MGET per hash slot, those of one node sent together: at most one pipeline per node.
    expect(await calls('mget')).toBe(slots.size)
    expect(pipeline.mock.calls.length).toBeLessThanOrEqual(cluster.nodes.length)
    pipeline.mockRestore()
    expect(await reader.get('key:3')).toEqual({ key: 'key:3', at: new Date(1) })

    // tags across slots, seen by the other instance through the bus
    await a.cache.set('t1', 1, { tags: ['group', 'other'] })
    await a.cache.set('t2', 2, { tags: ['group'] })
    expect(await b.cache.getMany(['t1', 't2'])).toEqual([1, 2])
    await a.cache.invalidateTags(['group'])
    await until(async () => (await b.cache.getMany(['t1', 't2'])).every((v) => v === undefined), 500)

    // key invalidation over the bus: sharded pub/sub on a cluster, no classic PUBLISH
    await resetStats()
    await a.cache.set('k', 'one')
    expect(await b.cache.get('k')).toBe('one')
    await a.cache.set('k', 'two')
    await until(async () => (await b.cache.get('k')) === 'two', 500)
    expect(await calls('spublish')).toBeGreaterThan(0)
    expect(await calls('publish')).toBe(0)

    // `sharded: false` keeps classic pub/sub on a cluster
    const classic = [a.client, b.client].map((client) =>
      createCache({
        l2: redisStore({ client, prefix: 'c:' }),
        bus: redisBus({ client, channel: 'classic', sharded: false }),
        l2Timeout: '2s',
      }),
    )
    caches.push(...classic)
    for (const cache of classic) await until(() => cache.stats().bus?.connected === true, 10_000)
    await resetStats()
    await classic[0]!.set('c', 'one')
    expect(await classic[1]!.get('c')).toBe('one')
    await classic[0]!.set('c', 'two')
    await until(async () => (await classic[1]!.get('c')) === 'two', 500)
    expect(await calls('publish')).toBeGreaterThan(0)

    await a.cache.clear()
    const direct = createCache({
      l2Timeout: '2s',
      l1: false,
      l2: redisStore({ client: b.client, prefix: 'c:' }),
    })
    expect(await direct.getMany(keys)).toEqual(keys.map(() => undefined))
  })
})
