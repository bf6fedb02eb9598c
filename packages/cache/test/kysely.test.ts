import { needService, tempPgSchema } from '@hotpath/test-utils'
import Database from 'better-sqlite3'
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type CacheStore, createCache } from '../src/index'
import { kyselyStore } from '../src/kysely'
import { sample } from './sample'

// biome-ignore lint/suspicious/noExplicitAny: the store's own tables are not part of a typed schema
type AnyDb = Kysely<any>

function storeContract(
  name: string,
  open: () => Promise<{ store: CacheStore; db: AnyDb; close(): Promise<void> }>,
) {
  describe(name, () => {
    let store: CacheStore
    let db: AnyDb
    let close: () => Promise<void>
    beforeAll(async () => {
      ;({ store, db, close } = await open())
    })
    afterAll(() => close())

    it('persists values across cache instances with every codec type intact', async () => {
      const value = sample()
      await createCache({ l2: store }).set('types', value)
      const other = createCache({ l2: store })
      expect(await other.get('types')).toEqual(value)
      expect(other.stats().l2.hits).toBe(1)
    })

    it('getMany, setMany, deleteMany and clear', async () => {
      const cache = createCache({ l1: false, l2: store })
      await cache.setMany([
        { key: 'a', value: 1 },
        { key: 'b', value: 2 },
        { key: '100%_x', value: 3 },
      ])
      expect(await cache.getMany(['b', 'nope', 'a', '100%_x'])).toEqual([2, undefined, 1, 3])
      await cache.deleteMany(['a'])
      expect(await cache.get('a')).toBeUndefined()
      const ns = cache.namespace('ns%')
      await ns.set('k', 1)
      await cache.namespace('nsX').set('k', 2)
      await ns.clear()
      expect(await ns.get('k')).toBeUndefined()
      expect(await cache.namespace('nsX').get('k')).toBe(2)
    })

    it('ignores expired rows and keeps grace values for fail-safe', async () => {
      const cache = createCache({ l1: false, l2: store, ttl: 30, grace: '1h' })
      await cache.set('short', 'old')
      await new Promise((r) => setTimeout(r, 40))
      expect(await cache.get('short')).toBeUndefined()
      expect(await cache.getOrSet('short', () => Promise.reject(new Error('down')))).toBe('old')
      await createCache({ l1: false, l2: store }).set('gone', 1, { ttl: 10 })
      await new Promise((r) => setTimeout(r, 20))
      expect(await store.get('cache:j1:gone')).toBeUndefined()
    })

    it('keeps tag version counters', async () => {
      const a = createCache({ l2: store })
      const b = createCache({ l2: store })
      await a.set('t', 1, { tags: ['x'] })
      expect(await b.get('t')).toBe(1)
      await b.invalidateTags(['x'])
      expect(await store.getTagVersions(['cache:x', 'cache:never'])).toEqual([1, 0])
      expect(await createCache({ l2: store }).get('t')).toBeUndefined()
      expect(await db.selectFrom('hotpath_cache_tags').selectAll().execute()).toHaveLength(1)
    })
  })
}

storeContract('kyselyStore on SQLite (better-sqlite3)', async () => {
  const db = new Kysely<AnyDb extends Kysely<infer D> ? D : never>({
    dialect: new SqliteDialect({ database: new Database(':memory:') }),
  })
  return { store: kyselyStore({ db }), db, close: () => db.destroy() }
})

if (await needService('postgres')) {
  storeContract('kyselyStore on PostgreSQL', async () => {
    const temp = await tempPgSchema()
    const db = new Kysely<AnyDb extends Kysely<infer D> ? D : never>({
      dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: temp.url, max: 2 }) }),
    })
    return {
      store: kyselyStore({ db }),
      db,
      close: async () => {
        await db.destroy()
        await temp.drop()
      },
    }
  })
}
