import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { Kysely, sql } from 'kysely'
import { afterAll, describe, expect, it } from 'vitest'
import { sqliteDialect } from '../src/kysely'

const dir = mkdtempSync(join(tmpdir(), 'hotpath-lazy-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('sqliteDialect opens nothing until the first query', () => {
  it('a bad pool option still throws where the dialect is created', () => {
    const filename = join(dir, 'bad.db')
    expect(() => sqliteDialect({ filename, pool: { acquireTimeout: -1 } as never })).toThrow(TypeError)
    expect(() => sqliteDialect({ filename, pool: { bogus: 1 } as never })).toThrow(TypeError)
    expect(existsSync(filename)).toBe(false)
  })

  it('creating the dialect and a Kysely instance opens no database file (its writer worker would)', async () => {
    const filename = join(dir, 'lazy.db')
    const db = new Kysely<unknown>({ dialect: sqliteDialect({ filename }) })
    try {
      // Long enough for a worker the writer's min: 1 would start to open the file.
      for (let i = 0; i < 20; i++) {
        await sleep(50)
        expect(existsSync(filename), 'file created before the first query').toBe(false)
      }
      await sql`select 1`.execute(db)
      expect(existsSync(filename)).toBe(true)
    } finally {
      await db.destroy()
    }
  })
})
