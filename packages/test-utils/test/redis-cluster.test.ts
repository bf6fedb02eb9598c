import { Cluster } from 'ioredis'
import { describe, expect, it } from 'vitest'
import { startRedisCluster } from '../src/index'

describe('startRedisCluster', () => {
  it('builds a 3-master cluster that serves keys across slots', async () => {
    const cluster = await startRedisCluster({ masters: 3 })
    const client = new Cluster(cluster.startupNodes)
    try {
      expect(cluster.nodes).toHaveLength(3)
      const keys = Array.from({ length: 30 }, (_, i) => `key-${i}`)
      for (const key of keys) await client.set(key, key.toUpperCase())
      for (const key of keys) expect(await client.get(key)).toBe(key.toUpperCase())
      const masters = client.nodes('master')
      expect(masters).toHaveLength(3)
      const sizes = await Promise.all(masters.map((node) => node.dbsize()))
      expect(sizes.filter((n) => n > 0).length).toBeGreaterThan(1)
    } finally {
      client.disconnect()
      await cluster.stop()
    }
  }, 60_000)

  it('refuses fewer than 3 masters', async () => {
    await expect(startRedisCluster({ masters: 2 })).rejects.toThrow(
      'Expected `masters` to be an integer >= 3',
    )
  })
})
