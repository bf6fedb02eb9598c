import { dropRedisPrefix, needService, redisUrl, tempPgSchema, uniquePrefix } from '@hotpath/test-utils'
import Redis from 'ioredis'
import { CATALOG_MODELS } from 'model-router/src/catalog'
import { migrate, openDatabase } from 'model-router/src/db'
import { type FakeProvider, startFakeProvider } from 'model-router/src/fake-provider'
import pg from 'pg'
import { describe, expect, it } from 'vitest'
import { buildBaseline } from '../src/app'

const services = (await needService('postgres')) && (await needService('redis'))

describe.runIf(services)('baseline router', () => {
  it('serves the router routes and writes one row per completion, failing over in catalog order', async () => {
    const schema = await tempPgSchema()
    const prefix = uniquePrefix()
    const providers: FakeProvider[] = []
    for (const name of ['alpha', 'beta', 'gamma'])
      providers.push(await startFakeProvider(name, { latencyMs: 1 }))
    const database = openDatabase({ databaseUrl: schema.url, sqliteFile: '' })
    await migrate(
      database.db,
      CATALOG_MODELS,
      providers.map((p) => ({ name: p.name, url: p.url })),
    )
    await database.db.destroy()
    const baseline = await buildBaseline({
      databaseUrl: schema.url,
      redisUrl: redisUrl(),
      redisPrefix: prefix,
      upstreamTimeoutMs: 1_000,
    })
    const url = await baseline.app.listen({ port: 0, host: '127.0.0.1' })
    try {
      const models = (await (await fetch(`${url}/v1/models`)).json()) as { data: { id: string }[] }
      expect(models.data.map((m) => m.id)).toEqual(CATALOG_MODELS.map((m) => m.id).sort())
      const complete = () =>
        fetch(`${url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }),
        })
      const first = await complete()
      expect(first.status).toBe(200)
      expect(first.headers.get('x-provider')).toBe('alpha')
      providers[0]!.behaviour.down = true
      const second = await complete()
      expect(second.headers.get('x-provider')).toBe('beta')
      providers[1]!.behaviour.down = true
      expect((await complete()).status).toBe(502)
      const bad = await fetch(`${url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      })
      expect(bad.status).toBe(400)

      const client = new pg.Client({ connectionString: schema.url })
      await client.connect()
      const { rows } = await client.query('select provider, status from request_metrics order by id')
      await client.end()
      expect(rows).toEqual([
        { provider: 'alpha', status: 200 },
        { provider: 'beta', status: 200 },
        { provider: 'none', status: 502 },
      ])
    } finally {
      await baseline.close()
      await Promise.all(providers.map((p) => p.close()))
      const redis = new Redis(redisUrl())
      await dropRedisPrefix(redis, prefix)
      redis.disconnect()
      await schema.drop()
    }
  })
})
