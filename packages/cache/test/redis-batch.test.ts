import { needService, type RedisServer, startRedis, uniquePrefix } from '@hotpath/test-utils'
import type { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createCache } from '../src/index'
import { redisStore } from '../src/redis'
import { connect } from './helpers'

/** Calls per command from INFO commandstats, e.g. { set: 3, evalsha: 1 }. */
async function commandCalls(client: Redis): Promise<Record<string, number>> {
  const info = await client.info('commandstats')
  const calls: Record<string, number> = {}
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls[match[1]!] = Number(match[2])
  return calls
}

/** Round trips: commands sent by clients (a script's own SETs are not sent by a client). */
const sent = (calls: Record<string, number>) =>
  Object.entries(calls)
    .filter(([name]) => name !== 'set' && name !== 'info' && name !== 'config|resetstat')
    .reduce((sum, [, n]) => sum + n, 0)

// A server of its own: CONFIG RESETSTAT and INFO commandstats see only this test's commands.
describe.runIf(await needService('redis'))('redisStore batches writes', () => {
  let server: RedisServer
  let client: Redis

  beforeAll(async () => {
    server = await startRedis()
    client = await connect(server.url)
  })
  afterAll(async () => {
    client?.disconnect()
    await server?.stop()
  })

  it('warm(1,200) sends one command per chunk of 500, with every value and ttl stored', async () => {
    const prefix = uniquePrefix('batch')
    const cache = createCache({ l2: redisStore({ client, prefix }), l2Timeout: '5s', ttl: '1m', grace: '1m' })
    const entries = Array.from({ length: 1_200 }, (_, i) => ({ key: `k${i}`, value: { i } }))
    await cache.setMany([
      { key: 'w1', value: 1 },
      { key: 'w2', value: 2 },
    ])
    await client.config('RESETSTAT')
    expect(await cache.warm(entries)).toBe(1_200)
    const calls = await commandCalls(client)
    expect(sent(calls)).toBe(3)
    expect((calls.evalsha ?? 0) + (calls.eval ?? 0)).toBe(3)
    expect(calls.set).toBe(1_200)

    const reader = createCache({ l2: redisStore({ client, prefix }), l2Timeout: '5s' })
    const back = await reader.getMany(entries.map((e) => e.key))
    expect(back).toEqual(entries.map((e) => e.value))
    const ttl = await client.pttl(`${prefix}cache:j1:k0`)
    expect(ttl).toBeGreaterThan(110_000)
    expect(ttl).toBeLessThanOrEqual(120_000)
    await cache.close()
    await reader.close()
  })

  it('a set issued while setMany is in flight on a server without its scripts is never overwritten', async () => {
    const prefix = uniquePrefix('batch')
    const store = redisStore({ client, prefix })
    for (let round = 0; round < 20; round++) {
      // A restarted server has no scripts: the batch must still land before the later set.
      await client.script('FLUSH')
      await Promise.all([
        store.setMany([
          { key: 'a', value: `old${round}`, ttl: 60_000 },
          { key: 'b', value: 'x', ttl: 60_000 },
        ]),
        store.set('a', `new${round}`, 60_000),
      ])
      expect(await client.get(`${prefix}a`)).toBe(`new${round}`)
    }
  })

  it('setMany is one command; binary values and per-entry ttls survive, also after SCRIPT FLUSH', async () => {
    const prefix = uniquePrefix('batch')
    const store = redisStore({ client, prefix })
    await client.script('FLUSH')
    await client.config('RESETSTAT')
    await store.setMany([
      { key: 'a', value: new Uint8Array([0, 255, 1]), ttl: 5_000 },
      { key: 'b', value: 'text', ttl: 60_000.4 },
    ])
    const calls = await commandCalls(client)
    // One EVAL for the batch (never EVALSHA and a retry, never one command per entry).
    expect(calls.evalsha).toBeUndefined()
    expect(calls.eval).toBe(1)
    expect(await client.getBuffer(`${prefix}a`)).toEqual(Buffer.from([0, 255, 1]))
    expect(await client.get(`${prefix}b`)).toBe('text')
    expect(await client.pttl(`${prefix}a`)).toBeLessThanOrEqual(5_000)
    expect(await client.pttl(`${prefix}b`)).toBeGreaterThan(5_000)

    await client.config('RESETSTAT')
    await store.setMany([])
    expect(await commandCalls(client)).not.toHaveProperty('evalsha')
    const cache = createCache({ l2: store, l2Timeout: '5s' })
    await cache.setMany([
      { key: 'x', value: 1 },
      { key: 'y', value: 2, ttl: '1s' },
    ])
    const after = await commandCalls(client)
    expect(after.eval).toBe(1)
    expect(after.evalsha).toBeUndefined()
    expect(after.set).toBe(2)
    await cache.close()
  })
})
