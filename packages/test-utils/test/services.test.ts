import { afterEach, describe, expect, it, vi } from 'vitest'
import { databaseUrl, mysqlUrl, redisUrl, startRedis } from '../src/index'

const saved = { ...process.env }
afterEach(() => {
  process.env = { ...saved }
  vi.resetModules()
  vi.restoreAllMocks()
})

describe('service URLs', () => {
  it('default to the local standard ports', () => {
    delete process.env.REDIS_URL
    delete process.env.DATABASE_URL
    delete process.env.MYSQL_URL
    expect(redisUrl()).toBe('redis://127.0.0.1:6379')
    expect(databaseUrl()).toBe('postgres://postgres@127.0.0.1:5432/test')
    expect(mysqlUrl()).toBe('mysql://root@127.0.0.1:3306/test')
  })

  it('come from the environment when set', () => {
    process.env.REDIS_URL = 'redis://10.0.0.1:7000'
    expect(redisUrl()).toBe('redis://10.0.0.1:7000')
  })
})

describe('needService', () => {
  it('prints one skip line and returns false for an unreachable service outside CI', async () => {
    process.env.REDIS_URL = 'redis://127.0.0.1:1'
    delete process.env.CI
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    const { needService } = await import('../src/services')
    expect(await needService('redis')).toBe(false)
    expect(warn).toHaveBeenCalledTimes(1)
    expect(String(warn.mock.calls[0]?.[0])).toMatch(
      /^\[skip\] redis unreachable at 127\.0\.0\.1:1 \(.+\): skipping its suites$/,
    )
  })

  it('throws under CI=true', async () => {
    process.env.REDIS_URL = 'redis://127.0.0.1:1'
    process.env.CI = 'true'
    const { needService } = await import('../src/services')
    await expect(needService('redis')).rejects.toThrow('CI=true requires it')
  })

  it('returns true for a reachable service, printing nothing', async () => {
    const server = await startRedis()
    try {
      process.env.REDIS_URL = server.url
      process.env.CI = 'true'
      const warn = vi.spyOn(console, 'warn')
      const { needService } = await import('../src/services')
      expect(await needService('redis')).toBe(true)
      expect(warn).not.toHaveBeenCalled()
    } finally {
      await server.stop()
    }
  })
})
