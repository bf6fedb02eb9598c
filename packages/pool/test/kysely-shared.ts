import { type Generated, type Kysely, sql } from 'kysely'
import { expect } from 'vitest'
import { QueryAbortedError } from '../src/index'
import { type PooledDialect, withQuerySignal } from '../src/kysely'

/** The table the server-backed dialect tests create. */
export interface ItemsDB {
  items: { id: Generated<number>; name: string; qty: number }
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
