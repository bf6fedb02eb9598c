import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import {
  dropRedisPrefix,
  needService,
  type RedisServer,
  redisUrl,
  runNodeSource,
  startRedis,
  uniquePrefix,
} from '@hotpath/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createCache, type LockEvent } from '../src/index'
import { redisBus, redisLock, redisStore } from '../src/redis'
import { connect, until } from './helpers'
import { MemoryStore } from './memory-store'

const packageDir = new URL('..', import.meta.url)

describe('redisLock() and createCache({ lock }) arguments', () => {
  const client = { status: 'ready', set: async () => 'OK' as const, eval: async () => 1 }

  it('refuses bad options synchronously, in the project format', () => {
    expect(() => redisLock({} as never)).toThrow(
      new TypeError(
        'Expected `client` to be an ioredis Redis or Cluster client, got `undefined` (undefined)',
      ),
    )
    expect(() => redisLock({ client, ttl: 'soon' } as never)).toThrow(TypeError)
    expect(() => redisLock({ client, ttl: 10 })).toThrow(/`ttl` to be a duration >= 30ms/)
    expect(() => redisLock({ client, maxPoll: 0 })).toThrow(/`maxPoll` to be a duration > 0/)
    expect(() => redisLock({ client, prefix: 1 } as never)).toThrow(/`prefix`/)
    expect(() => redisLock({ client, tll: '1s' } as never)).toThrow(/tll/)
    expect(() => createCache({ lock: redisLock({ client }) })).toThrow(
      /`l2` to be a cache store when `lock` is set/,
    )
    expect(() => createCache({ l2: new MemoryStore(), lock: {} as never })).toThrow(
      /`lock` to be a cache lock/,
    )
  })
})

describe.runIf(await needService('redis'))('cross-instance single-flight on Redis', () => {
  const prefix = uniquePrefix('lock')
  let admin: Awaited<ReturnType<typeof connect>>

  beforeAll(async () => {
    admin = await connect(redisUrl())
  })
  afterAll(async () => {
    await dropRedisPrefix(admin, prefix)
    admin.disconnect()
  })

  async function instance(url: string, label: string) {
    const client = await connect(url)
    const cache = createCache({
      namespace: label,
      l2: redisStore({ client, prefix }),
      bus: redisBus({ client, channel: `${prefix}bus` }),
      lock: redisLock({ client, prefix: `${prefix}lock:`, ttl: '2s' }),
      l2Timeout: '1s',
      timeouts: { hard: '5s' },
    })
    await until(() => cache.stats().bus?.connected === true, 5_000)
    return { client, cache }
  }

  it('two instances missing one key together: one loader call, the other waits for its value', async () => {
    const a = await instance(redisUrl(), 'two')
    const b = await instance(redisUrl(), 'two')
    const events: LockEvent[] = []
    const listen = (event: unknown) => events.push(event as LockEvent)
    subscribe('hotpath:cache:lock', listen)
    try {
      let calls = 0
      const loader = async () => {
        calls++
        await new Promise((r) => setTimeout(r, 150))
        return { v: calls }
      }
      const values = await Promise.all([
        ...Array.from({ length: 20 }, () => a.cache.getOrSet('cold', loader)),
        ...Array.from({ length: 20 }, () => b.cache.getOrSet('cold', loader)),
      ])
      expect(calls).toBe(1)
      expect(new Set(values.map((v) => JSON.stringify(v)))).toEqual(new Set(['{"v":1}']))
      const stats = [a.cache.stats().lock, b.cache.stats().lock]
      expect(stats.map((s) => s!.acquired).sort()).toEqual([0, 1])
      expect(stats.map((s) => s!.waited).sort()).toEqual([0, 1])
      expect(events.map((e) => e.event).sort()).toEqual(['acquired', 'waited'])
      expect(await admin.exists(`${prefix}lock:two:j1:cold`)).toBe(0) // released
    } finally {
      unsubscribe('hotpath:cache:lock', listen)
      for (const i of [a, b]) {
        await i.cache.close()
        i.client.disconnect()
      }
    }
  })

  it('while Redis is down each instance loads on its own, and no caller fails', async () => {
    const server: RedisServer = await startRedis()
    const a = await instance(server.url, 'down')
    try {
      await server.kill()
      await until(() => a.client.status !== 'ready', 5_000)
      let calls = 0
      const values = await Promise.all(
        Array.from({ length: 10 }, () => a.cache.getOrSet('k', () => `loaded ${++calls}`)),
      )
      expect(values).toEqual(Array.from({ length: 10 }, () => 'loaded 1'))
      expect(a.cache.stats().lock).toMatchObject({ acquired: 0, fallbacks: 1 })
    } finally {
      await a.cache.close()
      a.client.disconnect()
      await server.stop()
    }
  }, 20_000)

  /** A plain `node` process: waits for the others, then 250 concurrent getOrSet on one cold key. */
  const worker = `
import { createCache } from '@hotpath/cache'
import { redisBus, redisLock, redisStore } from '@hotpath/cache/redis'
import { Redis } from 'ioredis'
const { REDIS_URL, PREFIX, KILL, PROCESSES } = process.env
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const client = new Redis(REDIS_URL, { enableOfflineQueue: false, maxRetriesPerRequest: 0 })
const counter = new Redis(REDIS_URL)
await new Promise((r) => client.once('ready', r))
const cache = createCache({
  namespace: 'procs',
  l2: redisStore({ client, prefix: PREFIX }),
  bus: redisBus({ client, channel: PREFIX + 'bus' }),
  lock: redisLock({ client, prefix: PREFIX + 'lock:', ttl: KILL ? '600ms' : '5s' }),
  l2Timeout: '1s',
  timeouts: { hard: '4s' },
})
while (!cache.stats().bus?.connected) await sleep(5)
await counter.incr(PREFIX + 'ready')
while (Number(await counter.get(PREFIX + 'ready')) < Number(PROCESSES)) await sleep(5)
const loader = async () => {
  const n = await counter.incr(PREFIX + 'loads')
  if (KILL && n === 1) setTimeout(() => process.kill(process.pid, 'SIGKILL'), 100)
  await sleep(200)
  return { n }
}
const settled = await Promise.allSettled(
  Array.from({ length: 250 }, async () => {
    const started = performance.now()
    const value = await cache.getOrSet('cold', loader)
    return { value, ms: performance.now() - started }
  }),
)
const ok = settled.filter((s) => s.status === 'fulfilled').map((s) => s.value)
console.log(JSON.stringify({
  failed: settled.length - ok.length,
  values: [...new Set(ok.map((r) => JSON.stringify(r.value)))],
  maxMs: Math.max(...ok.map((r) => r.ms)),
  lock: cache.stats().lock,
}))
await cache.close()
client.disconnect()
counter.disconnect()
`

  async function runProcesses(kill: boolean) {
    const runPrefix = uniquePrefix(kill ? 'lockkill' : 'lockprocs')
    const runs = await Promise.all(
      Array.from({ length: 4 }, () =>
        runNodeSource(packageDir, 'esm', worker, {
          timeout: 25_000,
          env: { REDIS_URL: redisUrl(), PREFIX: runPrefix, PROCESSES: '4', KILL: kill ? '1' : '' },
        }),
      ),
    )
    const loads = Number(await admin.get(`${runPrefix}loads`))
    await dropRedisPrefix(admin, runPrefix)
    return { runs, loads }
  }

  it('4 processes × 250 concurrent getOrSet on one cold key: exactly one loader call in total', async () => {
    const { runs, loads } = await runProcesses(false)
    expect(loads).toBe(1)
    for (const run of runs) {
      expect(run.stderr).toBe('')
      expect(run.code).toBe(0)
      const report = JSON.parse(run.lines.at(-1)!)
      expect(report.failed).toBe(0)
      expect(report.values).toEqual(['{"n":1}'])
    }
    const reports = runs.map((run) => JSON.parse(run.lines.at(-1)!))
    expect(reports.map((r) => r.lock.acquired).reduce((a, b) => a + b)).toBe(1)
    expect(reports.map((r) => r.lock.waited).reduce((a, b) => a + b)).toBe(3)
  }, 60_000)

  it('the holder SIGKILLed mid-load: exactly one more load, no caller fails or waits past its timeout', async () => {
    const { runs, loads } = await runProcesses(true)
    expect(loads).toBe(2)
    const killed = runs.filter((run) => run.signal === 'SIGKILL')
    expect(killed).toHaveLength(1)
    expect(killed[0]!.timedOut).toBe(false)
    for (const run of runs.filter((r) => r.signal !== 'SIGKILL')) {
      expect(run.stderr).toBe('')
      expect(run.code).toBe(0)
      const report = JSON.parse(run.lines.at(-1)!)
      expect(report.failed).toBe(0)
      expect(report.values).toEqual(['{"n":2}'])
      expect(report.maxMs).toBeLessThan(4_000)
    }
  }, 60_000)
})
