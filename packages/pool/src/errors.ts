import { HotpathError, type HotpathErrorOptions } from '@hotpath/core'

/**
 * `acquire()` on a pool that is draining or closed (`E_POOL_CLOSED`). Waiters still queued when the
 * pool closes reject with it too.
 *
 * @example
 * await pool.close()
 * await pool.acquire() // rejects at once with PoolClosedError
 */
export class PoolClosedError extends HotpathError {
  constructor(name: string, options: HotpathErrorOptions = {}) {
    super(
      'E_POOL_CLOSED',
      `Pool '${name}' is closed or draining; create a new pool to acquire again.`,
      options,
    )
  }
}

/**
 * An acquire did not get a resource before its deadline (`E_POOL_ACQUIRE_TIMEOUT`). The deadline
 * covers the queue wait, the create and the validation. When creates were failing, the last create
 * error is the `cause`.
 *
 * @example
 * try { await pool.acquire() } catch (err) {
 *   if (err instanceof AcquireTimeoutError) console.warn(err.message, err.cause)
 * }
 */
export class AcquireTimeoutError extends HotpathError {
  /** The timeout that elapsed, in milliseconds. */
  readonly timeout: number

  constructor(timeout: number, message: string, options: HotpathErrorOptions = {}) {
    super('E_POOL_ACQUIRE_TIMEOUT', message, options)
    this.timeout = timeout
  }
}

/**
 * The waiting queue is full (`E_POOL_QUEUE_FULL`): `maxWaiting` acquires already wait.
 *
 * @example
 * const pool = createPool({ create, destroy, max: 10, maxWaiting: 100 })
 * // the 101st concurrent waiter rejects with PoolQueueFullError
 */
export class PoolQueueFullError extends HotpathError {
  /** The configured `maxWaiting`. */
  readonly maxWaiting: number

  constructor(name: string, maxWaiting: number) {
    super(
      'E_POOL_QUEUE_FULL',
      `Pool '${name}' already has ${maxWaiting} waiting acquires; shed load or raise \`maxWaiting\`.`,
    )
    this.maxWaiting = maxWaiting
  }
}

/**
 * A lease was released (or destroyed) twice (`E_POOL_DOUBLE_RELEASE`). The second call would hand
 * the same resource to two borrowers, so it throws instead.
 *
 * @example
 * const lease = await pool.acquire()
 * lease.release()
 * lease.release() // throws DoubleReleaseError
 */
export class DoubleReleaseError extends HotpathError {
  constructor(name: string) {
    super(
      'E_POOL_DOUBLE_RELEASE',
      `A lease of pool '${name}' was released twice; release each lease exactly once (\`await using\` does it for you).`,
    )
  }
}

/**
 * `initialize()` could not bring the pool to `min` resources (`E_POOL_INITIALIZE_FAILED`): with
 * `failFast` on the first create error, otherwise when its timeout elapsed. `cause` is the last
 * create error.
 *
 * @example
 * await pool.initialize({ failFast: true }) // throws PoolInitializeError if the database is down
 */
export class PoolInitializeError extends HotpathError {
  constructor(name: string, reason: string, options: HotpathErrorOptions = {}) {
    super(
      'E_POOL_INITIALIZE_FAILED',
      `Pool '${name}' could not create its minimum resources (${reason}); check the create function's target.`,
      options,
    )
  }
}

/**
 * A create took longer than `createTimeout` (`E_POOL_CREATE_TIMEOUT`). It counts as a create
 * failure and becomes the `cause` of waiters that time out.
 *
 * @example
 * createPool({ create: connect, destroy, createTimeout: '2s' })
 */
export class CreateTimeoutError extends HotpathError {
  /** The timeout that elapsed, in milliseconds. */
  readonly timeout: number

  constructor(name: string, timeout: number) {
    super(
      'E_POOL_CREATE_TIMEOUT',
      `Pool '${name}' gave up on a create after ${timeout} ms; the target may be unreachable or \`createTimeout\` too short.`,
    )
    this.timeout = timeout
  }
}

/**
 * A query was aborted through its signal or its `queryTimeout` (`E_POOL_QUERY_ABORTED`); the
 * connection it ran on is destroyed, never reused.
 *
 * @example
 * await withQuerySignal(AbortSignal.timeout(100), () => db.selectFrom('t').selectAll().execute())
 */
export class QueryAbortedError extends HotpathError {
  constructor(message: string, options: HotpathErrorOptions = {}) {
    super('E_POOL_QUERY_ABORTED', message, options)
  }
}

/**
 * The connection was already closed when a statement was handed to it (`E_POOL_CONNECTION_LOST`):
 * the statement was never sent, so it did not run on the server and retrying it is safe (inside a
 * transaction, the transaction ended with its connection: retry the whole transaction). The
 * connection is destroyed on release. The `cause` is the driver's error, when there was one.
 *
 * @example
 * try { await db.selectFrom('t').selectAll().execute() } catch (err) {
 *   if (err instanceof ConnectionLostError) return db.selectFrom('t').selectAll().execute()
 * }
 */
export class ConnectionLostError extends HotpathError {
  constructor(options: HotpathErrorOptions = {}) {
    super(
      'E_POOL_CONNECTION_LOST',
      'The connection was closed before the statement was sent; nothing ran, a retry is safe.',
      options,
    )
  }
}

/**
 * A `destroy` did not settle within `destroyTimeout` (`E_POOL_DESTROY_TIMEOUT`). The pool stops
 * waiting for it (so `drain()` and `close()` finish), counts it in `stats().destroyTimeouts` and
 * reports it on `hotpath:pool:destroy-error` and through `logger.warn`.
 *
 * @example
 * eventChannel<DestroyErrorMessage>('hotpath:pool:destroy-error').subscribe(({ error }) => {
 *   if (error instanceof DestroyTimeoutError) log.warn(error.message)
 * })
 */
export class DestroyTimeoutError extends HotpathError {
  /** The timeout that elapsed, in milliseconds. */
  readonly timeout: number

  constructor(name: string, timeout: number) {
    super(
      'E_POOL_DESTROY_TIMEOUT',
      `Pool '${name}' gave up waiting for a destroy after ${timeout} ms; the resource may still be open on the other side (raise \`destroyTimeout\` if destroys are slow).`,
    )
    this.timeout = timeout
  }
}

/**
 * The connection was lost after a statement was sent and before its reply arrived
 * (`E_POOL_OUTCOME_UNKNOWN`): the server may or may not have run it, and an autocommit write or a
 * COMMIT may have been kept. Retry only what is idempotent, or check first; a statement inside a
 * transaction other than COMMIT was rolled back with its session. The connection is destroyed on
 * release; the `cause` is the driver's error. {@link ConnectionLostError} is the never-sent case.
 *
 * @example
 * try { await db.insertInto('payments').values(payment).execute() } catch (err) {
 *   if (err instanceof QueryOutcomeUnknownError) return reconcile(payment.id)
 *   throw err
 * }
 */
export class QueryOutcomeUnknownError extends HotpathError {
  constructor(options: HotpathErrorOptions = {}) {
    super(
      'E_POOL_OUTCOME_UNKNOWN',
      'The connection was lost after the statement was sent; it may have run. Retry only if it is idempotent.',
      options,
    )
  }
}

/**
 * Every error class of `@hotpath/pool` by name.
 *
 * @example
 * if (err instanceof errors.AcquireTimeoutError) retryLater()
 */
export const errors = {
  PoolClosedError,
  AcquireTimeoutError,
  PoolQueueFullError,
  DoubleReleaseError,
  PoolInitializeError,
  CreateTimeoutError,
  QueryAbortedError,
  ConnectionLostError,
  DestroyTimeoutError,
  QueryOutcomeUnknownError,
} as const
