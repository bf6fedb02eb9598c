import { AsyncLocalStorage } from 'node:async_hooks'

const storage = new AsyncLocalStorage<AbortSignal>()

/**
 * Runs `fn` so that every query it starts through a hotpath dialect can be aborted by `signal`
 * (Kysely's API has no per-query signal). An aborted query rejects with `E_POOL_QUERY_ABORTED`,
 * the server is asked to cancel it, and its connection is destroyed, never reused. A connection
 * wait inside `fn` is aborted too.
 *
 * @example
 * const rows = await withQuerySignal(request.signal, () =>
 *   db.selectFrom('orders').selectAll().execute(),
 * )
 */
export function withQuerySignal<R>(signal: AbortSignal, fn: () => R): R {
  return storage.run(signal, fn)
}

/** @internal The signal of the surrounding {@link withQuerySignal}, if any. */
export function currentQuerySignal(): AbortSignal | undefined {
  return storage.getStore()
}
