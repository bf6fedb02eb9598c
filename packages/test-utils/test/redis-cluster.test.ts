import { Cluster } from 'ioredis'
import { describe, expect, it } from 'vitest'
import { failoverTestsEnabled, startRedisCluster } from '../src/index'

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

describe.runIf(failoverTestsEnabled())('startRedisCluster with replicas', () => {
  it('builds 3 masters with a replica each; failover() SIGKILLs a master and its replica takes over, by election or told to', async () => {
    const cluster = await startRedisCluster({ masters: 3, replicas: 1, nodeTimeout: 1_000 })
    const client = new Cluster(cluster.startupNodes, { retryDelayOnFailover: 100 })
    client.on('error', () => {})
    try {
      expect(cluster.nodes).toHaveLength(6)
      const before = await cluster.topology()
      expect(before.filter((n) => n.role === 'master')).toHaveLength(3)
      expect(before.filter((n) => n.role === 'replica')).toHaveLength(3)
      await client.set('survivor', 'yes')
      await client.wait(1, 1_000)
      const master = await cluster.masterOf('survivor')
      const { killed, promoted, tookMs, forced } = await cluster.failover('survivor')
      expect(killed).toBe(master)
      expect(killed.running).toBe(false)
      expect(promoted).not.toBe(master)
      expect(await cluster.masterOf('survivor')).toBe(promoted)
      // The cluster's own election promotes within the election timeout; when it stalls (a loaded
      // machine), the replica was told to take over after it, and the slots moved all the same.
      expect(tookMs).toBeLessThan(forced ? 30_000 : 10_000)
      // The write was replicated (WAIT) before the kill: the promoted replica has it.
      expect(await client.get('survivor')).toBe('yes')

      // With no time left for the cluster's own election (it needs the 1 s node timeout first),
      // the replica is told to take over: the slots move all the same, and `forced` says how.
      await cluster.recover()
      await client.set('second', 'yes')
      await client.wait(1, 1_000)
      const again = await cluster.failover('second', { electionTimeout: 0 })
      expect(again.forced).toBe(true)
      expect(await cluster.masterOf('second')).toBe(again.promoted)
      expect(again.promoted).not.toBe(again.killed)
      expect(await client.get('second')).toBe('yes')
    } finally {
      client.disconnect()
      await cluster.stop()
    }
  }, 60_000)

  it('refuses a negative replica count', async () => {
    await expect(startRedisCluster({ replicas: -1 })).rejects.toThrow(
      'Expected `replicas` to be an integer >= 0',
    )
  })
})
