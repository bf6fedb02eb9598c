import { type Generated, type Kysely, sql } from 'kysely'
import { expect } from 'vitest'
import { ConnectionLostError, QueryAbortedError } from '../src/index'
import { type PooledDialect, withQuerySignal } from '../src/kysely'

/** The table the server-backed dialect tests create. */
export interface ItemsDB {
  items: { id: Generated<number>; name: string; qty: number }
}

/** Kills the server session of the connection `run` uses; resolves once the client saw it close. */
export type KillOwnConnection = (run: (query: string) => Promise<unknown>) => Promise<void>

/** Polls `condition` every 10 ms until it holds; throws naming `what` after `timeoutMs`. */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 2_000): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (!condition()) {
    if (performance.now() >= deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}.`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/**
 * A {@link KillOwnConnection}: reads the session id with `idSql` (a row `{ id }`), has `kill` end
 * that session from another connection, then waits until `closed` (the ids of the sessions whose
 * client emitted its end event, recorded by the test's client) holds it.
 */
export function killOwnConnection(
  idSql: string,
  kill: (id: number) => Promise<unknown>,
  closed: ReadonlySet<number>,
): KillOwnConnection {
  return async (run) => {
    const { rows } = (await run(idSql)) as { rows: { id: number | string }[] }
    const id = Number(rows[0]!.id)
    await kill(id)
    await waitFor(() => closed.has(id), `the client of session ${id} to see it close`)
  }
}

/**
 * A statement aborted inside a transaction rejects it with QueryAbortedError (no ROLLBACK is sent
 * on the broken connection to replace that error) and nothing the transaction wrote is kept.
 */
export async function expectAbortedTransactionDiscarded(
  db: Kysely<ItemsDB>,
  dialect: PooledDialect,
  sleepSql: string,
): Promise<void> {
  const transaction = db.transaction().execute(async (tx) => {
    await tx.insertInto('items').values({ name: 'tx-aborted', qty: 1 }).execute()
    await withQuerySignal(AbortSignal.timeout(100), () => sql.raw(sleepSql).execute(tx))
  })
  await expect(transaction).rejects.toBeInstanceOf(QueryAbortedError)
  const names = (await db.selectFrom('items').select('name').execute()).map((r) => r.name)
  expect(names).not.toContain('tx-aborted')
  expect(dialect.stats().borrowed).toBe(0)
}

/**
 * On a pool of one connection: an idle connection the server closed is destroyed on acquire and
 * another one lent; one closed inside a transaction refuses the next statement with
 * ConnectionLostError; the pool serves queries afterwards.
 */
export async function expectServerClosedConnectionsHandled(
  db: Kysely<ItemsDB>,
  dialect: PooledDialect,
  killOwnConnection: KillOwnConnection,
): Promise<void> {
  await killOwnConnection((query) => sql.raw(query).execute(db))
  const { rows } = await sql<{ one: number }>`select 1 as one`.execute(db)
  expect(Number(rows[0]!.one)).toBe(1)
  expect(dialect.stats().destroyed).toBe(1)

  const inTransaction = db.transaction().execute(async (tx) => {
    await killOwnConnection((query) => sql.raw(query).execute(tx))
    await sql`select 2`.execute(tx)
  })
  await expect(inTransaction).rejects.toBeInstanceOf(ConnectionLostError)
  await expect(inTransaction).rejects.toMatchObject({ code: 'E_POOL_CONNECTION_LOST' })
  expect(dialect.stats().borrowed).toBe(0)
  const after = await sql<{ one: number }>`select 1 as one`.execute(db)
  expect(Number(after.rows[0]!.one)).toBe(1)
}
