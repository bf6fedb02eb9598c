import { checkNumber, checkString, readOptions } from './options'

/**
 * Options accepted by {@link HotpathError}.
 *
 * @example
 * const options: HotpathErrorOptions = { cause: err }
 * throw new HotpathError('E_POOL_CREATE', 'Could not create a resource.', options)
 */
export interface HotpathErrorOptions {
  /** The underlying error, kept as `cause`. */
  cause?: unknown
}

const ERROR_OPTIONS = ['cause']

/**
 * Base class of every error hotpath throws on purpose. Each carries a stable `code`
 * (`E_POOL_ACQUIRE_TIMEOUT`, `E_CACHE_LOADER_TIMEOUT`, ...) to branch on, and the underlying
 * error as `cause`.
 *
 * @example
 * class PoolClosedError extends HotpathError {
 *   constructor() { super('E_POOL_CLOSED', 'The pool is closed; create a new one.') }
 * }
 * try { await pool.acquire() } catch (err) {
 *   if (err instanceof HotpathError && err.code === 'E_POOL_CLOSED') ...
 * }
 */
export class HotpathError extends Error {
  /** Stable machine-readable code. */
  readonly code: string

  constructor(code: string, message: string, options: HotpathErrorOptions = {}) {
    checkString('code', code)
    checkString('message', message, { allowEmpty: true })
    readOptions(`new ${new.target.name}()`, options, ERROR_OPTIONS)
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.name = new.target.name
  }
}

/**
 * Thrown when a wait exceeds its timeout (`E_TIMEOUT`). Packages throw their own subclasses with
 * more specific codes.
 *
 * @example
 * await withTimeout(fetchThing(), { timeout: 100 }) // rejects with TimeoutError after 100 ms
 */
export class TimeoutError extends HotpathError {
  /** The timeout that elapsed, in milliseconds. */
  readonly timeout: number

  constructor(
    timeout: number,
    message = `Timed out after ${timeout} ms.`,
    options: HotpathErrorOptions = {},
  ) {
    checkNumber('timeout', timeout, { min: 0, allowInfinity: true })
    super('E_TIMEOUT', message, options)
    this.timeout = timeout
  }
}

/**
 * Thrown when a wait is aborted through an `AbortSignal` whose reason is not already an Error
 * (`E_ABORTED`). When the signal's reason is an Error, that reason is thrown as it is.
 *
 * @example
 * controller.abort() // pending waits reject with the signal's reason (a DOMException 'AbortError')
 */
export class AbortedError extends HotpathError {
  constructor(message = 'The operation was aborted.', options: HotpathErrorOptions = {}) {
    super('E_ABORTED', message, options)
  }
}

/**
 * Core's error classes by name.
 *
 * @example
 * if (err instanceof errors.TimeoutError) retry()
 */
export const errors = { HotpathError, TimeoutError, AbortedError } as const
