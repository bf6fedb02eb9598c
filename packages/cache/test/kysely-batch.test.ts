import Database from 'better-sqlite3'
import { Kysely, SqliteDialect } from 'kysely'
import { describe, expect, it } from 'vitest'
import { createCache } from '../src/index'
import { kyselyStore } from '../src/kysely'

describe('kyselyStore batches writes', () => {
  it('warm(1,200) writes one INSERT statement per chunk of 500; setMany(6,000) a few, all rows stored', async () => {
    const inserts: number[] = []
    // biome-ignore lint/suspicious/noExplicitAny: the store's own tables are not part of a typed schema
    const db = new Kysely<any>({
      dialect: new SqliteDialect({ database: new Database(':memory:') }),
      log(event) {
        if (event.level === 'query' && /^insert/i.test(event.query.sql)) {
          inserts.push(event.query.parameters.length / 3)
        }
      },
    })
    const store = kyselyStore({ db, purgeEvery: 1_000_000 })
    const cache = createCache({ l2: store, l1: false })
    const entries = Array.from({ length: 1_200 }, (_, i) => ({ key: `k${i}`, value: i }))
    expect(await cache.warm(entries)).toBe(1_200)
    expect(inserts).toEqual([500, 500, 200])

    inserts.length = 0
    await cache.setMany(Array.from({ length: 6_000 }, (_, i) => ({ key: `m${i}`, value: i })))
    expect(inserts).toEqual([5_000, 1_000])
    const count = await db.selectFrom('hotpath_cache').select(db.fn.countAll().as('n')).executeTakeFirst()
    expect(Number(count?.n)).toBe(7_200)
    expect(await cache.getMany(['k0', 'k1199', 'm5999'])).toEqual([0, 1_199, 5_999])
    await db.destroy()
  })
})
