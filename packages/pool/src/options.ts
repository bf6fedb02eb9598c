import {
  checkBoolean,
  checkFunction,
  checkInteger,
  checkKnownOptions,
  checkOptionsObject,
  checkString,
  type Duration,
  invalidOption,
  parseDuration,
} from '@hotpath/core'

/**
 * What `create` receives.
 *
 * @example
 * createPool({ create: ({ signal }) => connect(url, { signal }) })
 */
export interface CreateContext {
  /** Aborts when the create times out or the pool closes; pass it to the connect call if it can stop. */
  signal: AbortSignal
}

/**
 * A leak report: a lease held longer than `leakDetection`.
 *
 * @example
 * createPool({ create, leakDetection: '60s', onLeak: (r: LeakReport) => log.warn(r.stack) })
 */
export interface LeakReport {
  /** The pool name. */
  pool: string
  /** How long the lease has been held, in milliseconds. */
  heldMs: number
  /** The stack of the `acquire()` call that borrowed the resource. */
  stack: string
}

/**
 * A minimal logger; `console` fits.
 *
 * @example
 * createPool({ create, leakDetection: '60s', logger: console })
 */
export interface PoolLogger {
  warn(message: string, details?: object): void
}

/**
 * Backoff of failed creates.
 *
 * @example
 * createPool({ create, createRetry: { base: '100ms', max: '10s' } })
 */
export interface CreateRetryOptions {
  /**
   * Delay after the first failure; it doubles after each further failure.
   * @default '50ms'
   */
  base?: Duration
  /**
   * Upper bound of the delay.
   * @default '5s'
   */
  max?: Duration
}

/**
 * Options of {@link createPool}.
 *
 * @example
 * const options: PoolOptions<Client> = { create: connect, destroy: (c) => c.end(), max: 10 }
 */
export interface PoolOptions<T> {
  /**
   * Creates a resource. Rejections are retried with exponential backoff and jitter while someone
   * needs a resource; a waiter that times out gets the last create error as `cause`.
   */
  create: (context: CreateContext) => T | Promise<T>
  /**
   * Destroys a resource. Errors are counted (`stats().destroyErrors`) and reported on
   * `hotpath:pool:destroy-error`, never thrown.
   * @default a no-op
   */
  destroy?: (resource: T) => void | Promise<void>
  /**
   * Checks a resource before it is lent (unless used within `validateAfter`) and during keepalive.
   * Return `false` or throw to have it destroyed.
   * @default no validation
   */
  validate?: (resource: T) => boolean | Promise<boolean>
  /**
   * A cheap synchronous check run every time an idle resource is taken, even within
   * `validateAfter`: `true` means the resource is known dead (its socket closed while idle) and it
   * is destroyed (reason `'invalid'`, counted in `validationFailures`) instead of lent.
   * @default never broken
   */
  isBroken?: (resource: T) => boolean
  /**
   * Decides whether an error passed to `lease.release(err)` (or thrown inside `use`) means the
   * resource is broken and must be destroyed.
   * @default every error is fatal
   */
  isFatal?: (error: unknown) => boolean
  /**
   * Name shown in errors, stats and channel messages.
   * @default 'pool'
   */
  name?: string
  /**
   * Resources kept open even when idle (created at start, re-created after failures).
   * @default 0
   */
  min?: number
  /**
   * Upper bound of resources, borrowed + idle + being created. Required to be finite.
   * @default 10
   */
  max?: number
  /**
   * One deadline per acquire covering queue wait, create and validation.
   * @default '30s'
   */
  acquireTimeout?: Duration
  /**
   * Give up on a single create after this long (it counts as a create failure).
   * @default the `acquireTimeout`
   */
  createTimeout?: Duration
  /**
   * Give up waiting for a single `destroy` after this long: it is counted in
   * `stats().destroyTimeouts`, reported as a `DestroyTimeoutError` (channel
   * `hotpath:pool:destroy-error`, `logger.warn`), and `drain()`/`close()` stop waiting for it.
   * `Infinity` waits for ever.
   * @default '5s'
   */
  destroyTimeout?: Duration
  /**
   * Idle resources above `min` are destroyed after this long unused; `Infinity` keeps them.
   * The `min` resources are never evicted for idleness: they are replaced when they reach
   * `maxLifetime`, fail `keepalive` validation or are found broken.
   * @default '10m'
   */
  idleTimeout?: Duration
  /**
   * Resources are retired this long after their creation (±2.5% jitter so they don't expire
   * together); a borrowed one is retired on release. `Infinity` disables.
   * @default '30m'
   */
  maxLifetime?: Duration
  /**
   * Resources are retired after this many leases; `Infinity` disables.
   * @default Infinity
   */
  maxUses?: number
  /**
   * Idle resources are validated in the background after this long without use (needs `validate`);
   * `Infinity` disables.
   * @default '2m'
   */
  keepalive?: Duration
  /**
   * Validation on borrow is skipped when the resource was used or checked within this window.
   * @default '500ms'
   */
  validateAfter?: Duration
  /**
   * A lease held longer than this is reported (channel `hotpath:pool:leak`, `onLeak`, `logger`)
   * with the acquiring stack. Capturing the stack costs about a microsecond per acquire.
   * `Infinity` disables.
   * @default Infinity
   */
  leakDetection?: Duration
  /**
   * Called once per leaked lease.
   * @default none
   */
  onLeak?: (report: LeakReport) => void
  /**
   * Receives leak warnings and destroy timeouts.
   * @default none
   */
  logger?: PoolLogger
  /**
   * How many acquires may wait for a borrowed resource to come back; further ones reject at once
   * with `E_POOL_QUEUE_FULL`. Acquires that a create can serve (while the pool is below `max`) do
   * not count: `0` means an acquire is served by an idle resource or by a create it starts, and is
   * refused only when it would have to wait behind others.
   * @default 1000
   */
  maxWaiting?: number
  /**
   * Creates in flight at once. Like HikariCP's single connection adder, a small number keeps a
   * burst from opening one connection per waiter: resources released within the connect time
   * serve the queue, and a create still pending when nobody waits any more is not followed by
   * another. Raise it when connects are slow and holds are long.
   * @default 2
   */
  maxCreating?: number
  /**
   * Backoff of failed creates.
   * @default { base: '50ms', max: '5s' }
   */
  createRetry?: CreateRetryOptions
  /**
   * `true` lends the idle resource released longest ago (round robin); `false` the most recently
   * released one (keeps a hot working set and lets the rest expire through `idleTimeout`).
   * @default false
   */
  fifo?: boolean
}

/** @internal Validated pool options. */
export interface ResolvedOptions<T> {
  create: (context: CreateContext) => T | Promise<T>
  destroy: (resource: T) => void | Promise<void>
  validate: ((resource: T) => boolean | Promise<boolean>) | undefined
  isBroken: ((resource: T) => boolean) | undefined
  isFatal: (error: unknown) => boolean
  name: string
  min: number
  max: number
  acquireTimeout: number
  createTimeout: number
  destroyTimeout: number
  idleTimeout: number
  maxLifetime: number
  maxUses: number
  keepalive: number
  validateAfter: number
  leakDetection: number
  onLeak: ((report: LeakReport) => void) | undefined
  logger: PoolLogger | undefined
  maxWaiting: number
  maxCreating: number
  retryBase: number
  retryMax: number
  fifo: boolean
}

const noop = () => {}
const alwaysFatal = () => true

const POOL_OPTIONS = [
  'create',
  'destroy',
  'validate',
  'isBroken',
  'isFatal',
  'name',
  'min',
  'max',
  'acquireTimeout',
  'createTimeout',
  'destroyTimeout',
  'idleTimeout',
  'maxLifetime',
  'maxUses',
  'keepalive',
  'validateAfter',
  'leakDetection',
  'onLeak',
  'logger',
  'maxWaiting',
  'maxCreating',
  'createRetry',
  'fifo',
] as const satisfies readonly (keyof PoolOptions<unknown>)[]

const RETRY_OPTIONS = ['base', 'max'] as const satisfies readonly (keyof CreateRetryOptions)[]

/** @internal */
export function checkLogger(value: unknown): PoolLogger | undefined {
  if (value === undefined) return undefined
  if (value === null || typeof value !== 'object' || typeof (value as PoolLogger).warn !== 'function') {
    throw invalidOption('logger', 'an object with a warn(message, details) method', value)
  }
  return value as PoolLogger
}

/** @internal */
export function checkMinMax(min: unknown, max: unknown): { min: number; max: number } {
  const checkedMax = checkInteger('max', max, { min: 1 })
  const checkedMin = checkInteger('min', min, { min: 0, max: checkedMax })
  return { min: checkedMin, max: checkedMax }
}

/** @internal */
export function resolveOptions<T>(input: PoolOptions<T>): Readonly<ResolvedOptions<T>> {
  const raw = checkOptionsObject('options', input) as PoolOptions<T>
  checkKnownOptions('createPool()', raw, POOL_OPTIONS)
  if (raw.max === Number.POSITIVE_INFINITY) {
    throw invalidOption('max', 'an integer >= 1 (a pool needs a bound)', raw.max)
  }
  const { min, max } = checkMinMax(raw.min ?? 0, raw.max ?? 10)
  const acquireTimeout = parseDuration(raw.acquireTimeout ?? '30s', 'acquireTimeout')
  const retry = checkOptionsObject('createRetry', raw.createRetry)
  checkKnownOptions('createRetry', retry, RETRY_OPTIONS)
  const retryBase = parseDuration(retry.base ?? '50ms', 'createRetry.base', { positive: true })
  const retryMax = parseDuration(retry.max ?? '5s', 'createRetry.max')
  if (retryMax < retryBase) throw invalidOption('createRetry.max', `a duration >= ${retryBase} ms`, retry.max)
  const infinite = { allowInfinity: true }
  return Object.freeze({
    create: checkFunction<ResolvedOptions<T>['create']>('create', raw.create),
    destroy:
      raw.destroy === undefined ? noop : checkFunction<ResolvedOptions<T>['destroy']>('destroy', raw.destroy),
    validate:
      raw.validate === undefined
        ? undefined
        : checkFunction<NonNullable<ResolvedOptions<T>['validate']>>('validate', raw.validate),
    isBroken:
      raw.isBroken === undefined
        ? undefined
        : checkFunction<NonNullable<ResolvedOptions<T>['isBroken']>>('isBroken', raw.isBroken),
    isFatal:
      raw.isFatal === undefined
        ? alwaysFatal
        : checkFunction<(e: unknown) => boolean>('isFatal', raw.isFatal),
    name: checkString('name', raw.name ?? 'pool'),
    min,
    max,
    acquireTimeout,
    createTimeout: parseDuration(raw.createTimeout ?? acquireTimeout, 'createTimeout'),
    destroyTimeout: parseDuration(raw.destroyTimeout ?? '5s', 'destroyTimeout', infinite),
    idleTimeout: parseDuration(raw.idleTimeout ?? '10m', 'idleTimeout', infinite),
    maxLifetime: parseDuration(raw.maxLifetime ?? '30m', 'maxLifetime', infinite),
    maxUses: checkInteger('maxUses', raw.maxUses ?? Number.POSITIVE_INFINITY, {
      min: 1,
      allowInfinity: true,
    }),
    keepalive: parseDuration(raw.keepalive ?? '2m', 'keepalive', infinite),
    validateAfter: parseDuration(raw.validateAfter ?? '500ms', 'validateAfter', infinite),
    leakDetection: parseDuration(raw.leakDetection ?? Number.POSITIVE_INFINITY, 'leakDetection', infinite),
    onLeak:
      raw.onLeak === undefined ? undefined : checkFunction<(r: LeakReport) => void>('onLeak', raw.onLeak),
    logger: checkLogger(raw.logger),
    maxWaiting: checkInteger('maxWaiting', raw.maxWaiting ?? 1_000, { min: 0 }),
    maxCreating: checkInteger('maxCreating', raw.maxCreating ?? 2, { min: 1 }),
    retryBase,
    retryMax,
    fifo: checkBoolean('fifo', raw.fifo ?? false),
  })
}
