import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { databaseUrl, IDLE_EXIT_MS, mysqlUrl, needService, runScript } from '@hotpath/test-utils'
import { afterAll, describe, expect, it } from 'vitest'

const packageDir = new URL('..', import.meta.url)
const services = { postgres: await needService('postgres'), mysql: await needService('mysql') }
const dir = mkdtempSync(join(tmpdir(), 'hotpath-kysely-process-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** Dialect construction, per database, as a user's script writes it. */
const dialects = {
  sqlite: `sqliteDialect({ filename: ${JSON.stringify(join(dir, 'app.db'))}, readers: 2 })`,
  postgres: `postgresDialect({ connectionString: ${JSON.stringify(databaseUrl())} })`,
  mysql: `mysqlDialect({ uri: ${JSON.stringify(mysqlUrl())} })`,
}

const imports = {
  kysely: ['Kysely', 'sql'],
  '@hotpath/pool/kysely': ['mysqlDialect', 'postgresDialect', 'sqliteDialect'],
}

/** Runs a query (and `then`), prints `done`, marks its last await, and leaves the rest to the event loop. */
const script = (kind: 'esm' | 'cjs', dialect: string, then = '', options: { timeout?: number } = {}) =>
  runScript(
    packageDir,
    kind,
    `
    const db = new Kysely({ dialect: ${dialect} })
    const { rows } = await sql\`select 1 as one\`.execute(db)
    ${then}
    console.log('done', Number(rows[0].one))
    mark()`,
    { imports, ...options },
  )

describe('process lifetime of a Kysely dialect (plain node on dist/)', () => {
  const cases = [
    ['sqlite', 'esm'],
    ['postgres', 'cjs'],
    ['mysql', 'esm'],
  ] as const
  for (const [engine, kind] of cases) {
    it.runIf(engine === 'sqlite' || services[engine])(
      `${engine} (${kind}): an idle dialect lets the process exit, with or without db.destroy()`,
      async () => {
        const idle = await script(kind, dialects[engine])
        expect(idle.stderr).toBe('')
        expect(idle.lines).toEqual(['done 1'])
        expect(idle.code).toBe(0)
        expect(idle.exitGap).toBeLessThanOrEqual(IDLE_EXIT_MS)
        // destroy() completes (its closing handshakes keep the process alive until they are done)
        const destroyed = await script(kind, dialects[engine], `await db.destroy(); console.log('destroyed')`)
        expect(destroyed.lines).toEqual(['destroyed', 'done 1'])
        expect(destroyed.code).toBe(0)
      },
    )
  }

  it.runIf(services.postgres)(
    'postgres: a lent connection (an open transaction) keeps the process alive',
    async () => {
      const run = await script('esm', dialects.postgres, 'await db.startTransaction().execute()', {
        timeout: 4_000,
      })
      expect(run.lines).toEqual(['done 1'])
      expect(run.timedOut).toBe(true)
    },
  )
})
