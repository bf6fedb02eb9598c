import {
  dropRedisPrefix,
  IDLE_EXIT_MS,
  needService,
  redisUrl,
  runScript,
  uniquePrefix,
} from '@hotpath/test-utils'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { redisSemaphore } from '../src/redis'

const hasRedis = await needService('redis')

describe.runIf(hasRedis)('redisSemaphore', () => {
  let client: Redis
  const prefix = uniquePrefix('sem')
  beforeAll(async () => {
    client = new Redis(redisUrl())
    await client.ping()
  })
  afterAll(async () => {
    await dropRedisPrefix(client, prefix)
    client.disconnect()
  })

  it('never lets more than `permits` holders in, across instances', async () => {
    const options = { client, key: 'jobs', permits: 3, prefix, retryInterval: '5ms' } as const
    const instances = [redisSemaphore(options), redisSemaphore(options)]
    let inside = 0
    let peak = 0
    await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        instances[i % 2]!.run(async () => {
          inside++
          peak = Math.max(peak, inside)
          await new Promise((r) => setTimeout(r, 15))
          inside--
        }),
      ),
    )
    expect(peak).toBe(3)
    expect(await instances[0]!.count()).toBe(0)
  })

  it('a dead holder loses its permit when the lease expires', async () => {
    const sem = redisSemaphore({
      client,
      key: 'crash',
      permits: 1,
      lease: '200ms',
      autoExtend: false,
      prefix,
    })
    const crashed = await sem.tryAcquire() // never released: the holder "dies"
    expect(crashed).toBeDefined()
    expect(await sem.tryAcquire()).toBeUndefined()
    const started = performance.now()
    const next = await sem.acquire({ timeout: '2s' })
    expect(performance.now() - started).toBeGreaterThan(100)
    expect(await crashed!.extend()).toBe(false)
    expect(crashed!.signal.aborted).toBe(true)
    await next.release()
  })

  it('auto-extension keeps a live holder past its lease', async () => {
    const sem = redisSemaphore({ client, key: 'long', permits: 1, lease: '600ms', prefix })
    const held = await sem.acquire()
    await new Promise((r) => setTimeout(r, 1_500))
    expect(await sem.tryAcquire()).toBeUndefined()
    expect(held.signal.aborted).toBe(false)
    await held.release()
    const again = await sem.tryAcquire()
    expect(again).toBeDefined()
    await again!.release()
  })

  it('times out and aborts a wait', async () => {
    const sem = redisSemaphore({ client, key: 'busy', permits: 1, prefix, retryInterval: '10ms' })
    const held = await sem.acquire()
    await expect(sem.acquire({ timeout: '60ms' })).rejects.toMatchObject({ code: 'E_SEMAPHORE_TIMEOUT' })
    const controller = new AbortController()
    const waiting = sem.acquire({ signal: controller.signal })
    setTimeout(() => controller.abort(new Error('stop')), 30)
    await expect(waiting).rejects.toThrow('stop')
    await held.release()
  })
  it('a release wakes a waiting instance at once, long before its next poll', async () => {
    const options = { client, key: 'wake', permits: 1, prefix, retryInterval: '5s' } as const
    const a = redisSemaphore(options)
    const b = redisSemaphore(options)
    const channel = `${prefix}{wake}:released`
    const held = await a.acquire()
    const waiting = b.acquire({ timeout: '10s' })
    const numsub = async () => Number(((await client.pubsub('NUMSUB', channel)) as [string, number])[1])
    const subscribed = performance.now()
    while ((await numsub()) === 0) {
      if (performance.now() - subscribed > 3_000) throw new Error('the waiter never subscribed')
      await new Promise((r) => setTimeout(r, 10))
    }
    const released = performance.now()
    await held.release()
    const next = await waiting
    // The poll would have come 2.5–7.5 s later.
    expect(performance.now() - released).toBeLessThan(1_000)
    await next.release()
    // Nobody waits any more: the subscriber connection is gone.
    const started = performance.now()
    while ((await numsub()) !== 0) {
      if (performance.now() - started > 2_000) throw new Error('the subscriber stayed')
      await new Promise((r) => setTimeout(r, 10))
    }
  })

  it('wakeOnRelease: false subscribes nothing and still finds the permit by polling', async () => {
    const options = {
      client,
      key: 'nowake',
      permits: 1,
      prefix,
      retryInterval: '20ms',
      wakeOnRelease: false,
    } as const
    const sem = redisSemaphore(options)
    const held = await sem.acquire()
    const waiting = sem.acquire({ timeout: '5s' })
    await new Promise((r) => setTimeout(r, 100))
    const [, subscribers] = (await client.pubsub('NUMSUB', `${prefix}{nowake}:released`)) as [string, number]
    expect(Number(subscribers)).toBe(0)
    await held.release()
    await (await waiting).release()
    expect(() => redisSemaphore({ ...options, wakeOnRelease: 'yes' } as never)).toThrow(/`wakeOnRelease`/)
  })
  it.each(['esm', 'cjs'] as const)(
    'plain node (%s): a woken waiter gets the permit and the process exits once nothing waits',
    async (kind) => {
      const run = await runScript(
        new URL('..', import.meta.url),
        kind,
        `const client = new Redis(process.env.REDIS_URL)
const sem = redisSemaphore({ client, key: 'exit', permits: 1, prefix: process.env.PREFIX, retryInterval: '10s' })
const held = await sem.acquire()
const waiting = sem.acquire({ timeout: '20s' })
setTimeout(() => held.release(), 300)
const started = Date.now()
const next = await waiting
console.log('woken', Date.now() - started < 5000)
await next.release()
await client.quit()
mark()`,
        {
          imports: { '@hotpath/concurrency/redis': ['redisSemaphore'], ioredis: ['Redis'] },
          env: { REDIS_URL: redisUrl(), PREFIX: prefix },
          timeout: 20_000,
        },
      )
      expect(run.stderr).toBe('')
      expect(run.lines).toEqual(['woken true'])
      expect(run.exitGap).toBeLessThanOrEqual(IDLE_EXIT_MS)
    },
  )
})
