import {
  failoverClusterOptions,
  failoverTestsEnabled,
  needService,
  type RedisCluster,
  startRedisCluster,
  watchLoopLag,
} from '@hotpath/test-utils'
import { Cluster as Cluster5 } from 'ioredis'
import { Cluster as Cluster6 } from 'ioredis6'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Cache, createCache } from '../src/index'
import { redisBus, redisLock, redisStore } from '../src/redis'
import { until } from './helpers'

// A master of a 3-master cluster with one replica each is SIGKILLed while two cache instances
// read, write, invalidate and load through it; its replica takes over. The master killed is the one
// serving the bus channel, so the sharded subscription moves too.

// The recommended options (no retries inside ioredis) plus no offline queue: a write the cache gave
// up on (l2Timeout) must not land later over a newer one; the recovery queue re-sends it in order.
const clusterOptions = { ...failoverClusterOptions, enableOfflineQueue: false } as const

type AnyCluster = Cluster5 | Cluster6
const clients = [
  ['ioredis 5', (nodes: { host: string; port: number }[]) => new Cluster5(nodes, clusterOptions)],
  ['ioredis 6', (nodes: { host: string; port: number }[]) => new Cluster6(nodes, clusterOptions)],
] as const

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const CHANNEL = 'hotpath:cache:bus'

describe.runIf((await needService('redis')) && failoverTestsEnabled())(
  'cache on a Redis Cluster failover under load',
  () => {
    let cluster: RedisCluster
    const open: AnyCluster[] = []
    const caches: Cache[] = []

    async function instance(make: (typeof clients)[number][1], prefix: string) {
      const client = make(cluster.startupNodes)
      client.on('error', () => {})
      open.push(client)
      await until(() => client.status === 'ready', 10_000)
      const cache = createCache({
        l2: redisStore({ client, prefix }),
        bus: redisBus({ client }),
        lock: redisLock({ client, prefix: `${prefix}lock:`, ttl: '1s' }),
        l2Timeout: '300ms',
        timeouts: { hard: '1s' },
        breaker: { cooldown: '500ms' },
      })
      caches.push(cache)
      await until(() => cache.stats().bus?.connected === true, 10_000)
      return { client, cache }
    }

    beforeAll(async () => {
      cluster = await startRedisCluster({ masters: 3, replicas: 1, nodeTimeout: 1_000 })
    }, 60_000)
    afterAll(async () => {
      for (const cache of caches) await cache.close()
      for (const client of open) client.disconnect()
      await cluster?.stop()
    })

    it.each(clients)(
      '%s: L2, bus, tags and lock keep their bounds through the failover and work after it',
      async (label, make) => {
        await cluster.recover()
        const prefix = `c${label.at(-1)}:`
        const a = await instance(make, prefix)
        const b = await instance(make, prefix)
        const keys = Array.from({ length: 30 }, (_, i) => `k${i}`)
        await a.cache.setMany(keys.map((key) => ({ key, value: 0 })))
        const lag = watchLoopLag()
        let slowest = { op: '', ms: 0 }
        // Past its budget: one l2Timeout for plain calls, timeouts.hard for a load.
        let overBudget = 0
        const timed = async <R>(op: string, run: () => Promise<R>): Promise<R | undefined> => {
          const started = performance.now()
          try {
            return await run()
          } catch (error) {
            // A loader past `timeouts.hard` is the only failure the cache may report.
            if ((error as { code?: string }).code !== 'E_CACHE_LOADER_TIMEOUT') throw error
            return undefined
          } finally {
            const ms = performance.now() - started
            overBudget = Math.max(overBudget, ms - (op === 'getOrSet' ? 1_000 : 300))
            if (ms > slowest.ms) slowest = { op, ms: Math.round(ms) }
          }
        }
        const last = new Map<string, number>()
        let loads = 0
        let stop = false
        let round = 0
        const writer = async () => {
          while (!stop) {
            round++
            for (const key of keys) {
              last.set(key, round)
              await timed('set', () => a.cache.set(key, round, { tags: ['all'] }))
            }
            await timed('invalidateTags', () => a.cache.invalidateTags(['other']))
            await sleep(2)
          }
        }
        const reader = async () => {
          while (!stop) {
            await timed('getMany', () => b.cache.getMany(keys))
            await timed('getOrSet', () =>
              b.cache.getOrSet(`load:${round % 5}`, async () => {
                loads++
                return round
              }),
            )
            await sleep(5)
          }
        }
        const load = [writer(), reader(), reader()]
        await sleep(300)
        const resubscribes = b.cache.stats().bus!.resubscribes
        const failover = await cluster.failover(CHANNEL)
        await sleep(1_000)
        stop = true
        await Promise.all(load)
        lag.stop()

        // The sharded subscription moved to the promoted replica, and the cache heard of it.
        await until(() => b.cache.stats().bus!.resubscribes > resubscribes, 5_000)
        await until(() => b.cache.stats().bus!.connected, 5_000)
        // Failed writes were queued and replayed: L2 ends with the last value written for each key.
        await until(() => a.cache.stats().recovery.queued === 0, 5_000)
        const direct = createCache({
          l1: false,
          l2: redisStore({ client: b.client, prefix }),
          l2Timeout: '1s',
        })
        caches.push(direct)
        const stored = await direct.getMany(keys)
        const behind = keys
          .filter((key, i) => stored[i] !== last.get(key))
          .map((key) => [key, last.get(key), stored[keys.indexOf(key)]])
        console.log(
          `${label} cache failover: ${JSON.stringify({ failoverMs: failover.tookMs, forced: failover.forced, slowest, overBudget: Math.round(overBudget), loopLagMs: lag.max, rounds: round, loads, behind, a: a.cache.stats().recovery, l2a: a.cache.stats().l2, bus: b.cache.stats().bus, lock: b.cache.stats().lock })}`,
        )
        expect(overBudget).toBeLessThan(150 + lag.max)
        expect(behind).toEqual([])

        // After the failover: invalidations reach the other instance over the new shard owner.
        await a.cache.set('after', 1)
        // B's breaker may still be open from the failover: L2 answers it again within its cooldown.
        await until(async () => (await b.cache.get('after')) === 1, 1_000)
        await a.cache.set('after', 2)
        await until(async () => (await b.cache.get('after')) === 2, 1_000)
        // Tags across slots, through the bus.
        await a.cache.set('t1', 1, { tags: ['g'] })
        expect(await b.cache.get('t1')).toBe(1)
        await a.cache.invalidateTags(['g'])
        await until(async () => (await b.cache.get('t1')) === undefined, 1_000)
        // The lock: one load for two instances missing the same key at once.
        let calls = 0
        const loader = async () => {
          calls++
          await sleep(50)
          return 'v'
        }
        expect(
          await Promise.all([a.cache.getOrSet('once', loader), b.cache.getOrSet('once', loader)]),
        ).toEqual(['v', 'v'])
        expect(calls).toBe(1)
      },
      45_000,
    )
  },
)
