import Redis from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import { pingRedis, startRedis } from '../src/index'

describe('startRedis', () => {
  const cleanup: (() => Promise<void>)[] = []
  afterAll(async () => {
    for (const step of cleanup) await step()
  })

  it('starts a real redis-server that can be killed and restarted on the same port', async () => {
    const server = await startRedis()
    cleanup.push(() => server.stop())
    expect(server.running).toBe(true)
    expect(server.pid).toBeGreaterThan(0)

    const client = new Redis(server.url, { maxRetriesPerRequest: 1, retryStrategy: () => 50 })
    cleanup.push(async () => void client.disconnect())
    await client.set('k', 'v')
    expect(await client.get('k')).toBe('v')

    const pid = server.pid!
    await server.kill()
    expect(server.running).toBe(false)
    expect(() => process.kill(pid, 0)).toThrow()
    await expect(pingRedis(server.url, 300)).rejects.toThrow()

    await server.restart()
    expect(server.running).toBe(true)
    expect(server.pid).not.toBe(pid)
    await pingRedis(server.url)
    // no persistence: a crash loses the data, as the tests expect
    expect(await client.get('k')).toBeNull()
  })

  it('stop() shuts down gracefully and removes its directory', async () => {
    const { existsSync } = await import('node:fs')
    const server = await startRedis()
    expect(existsSync(server.dir)).toBe(true)
    await server.stop()
    expect(server.running).toBe(false)
    expect(existsSync(server.dir)).toBe(false)
  })
})
