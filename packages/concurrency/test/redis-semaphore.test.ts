import { dropRedisPrefix, needService, redisUrl, uniquePrefix } from '@hotpath/test-utils'
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
})
