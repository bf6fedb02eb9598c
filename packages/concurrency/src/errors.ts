import { HotpathError, type HotpathErrorOptions, TimeoutError } from '@hotpath/core'

/**
 * A bounded queue is full: the semaphore, lock or queue refused a new waiter (`E_QUEUE_FULL`).
 * Shed the load (answer 429/503) or raise `maxQueue` if the backlog is expected.
 *
 * @example
 * try { await sem.run(task) } catch (err) {
 *   if (err instanceof QueueFullError) return reply.code(503).send()
 * }
 */
export class QueueFullError extends HotpathError {
  /** The bound that was reached. */
  readonly maxQueue: number

  constructor(maxQueue: number, what = 'queue', options: HotpathErrorOptions = {}) {
    super(
      'E_QUEUE_FULL',
      `The ${what} is full (${maxQueue} waiting); shed the load or raise \`maxQueue\`.`,
      options,
    )
    this.maxQueue = maxQueue
  }
}

/**
 * A wait for permits exceeded its `timeout` (`E_SEMAPHORE_TIMEOUT`).
 *
 * @example
 * await sem.acquire({ timeout: '1s' }).catch((err) => err.code) // 'E_SEMAPHORE_TIMEOUT'
 */
export class SemaphoreTimeoutError extends TimeoutError {
  constructor(timeout: number, what = 'permits', options: HotpathErrorOptions = {}) {
    super(
      timeout,
      `Waited ${timeout} ms for ${what} without getting them; retry later or raise the timeout.`,
      options,
    )
    ;(this as { code: string }).code = 'E_SEMAPHORE_TIMEOUT'
  }
}

/**
 * A task started by `run(fn, { taskTimeout })` ran longer than its `taskTimeout`
 * (`E_TASK_TIMEOUT`): the call rejected and the task's signal was aborted with this error. The
 * task's permits stay held until it settles.
 *
 * @example
 * await sem.run((signal) => fetch(url, { signal }), { taskTimeout: '2s' }).catch((err) => err.code) // 'E_TASK_TIMEOUT'
 */
export class TaskTimeoutError extends TimeoutError {
  constructor(timeout: number, what = 'task', options: HotpathErrorOptions = {}) {
    super(
      timeout,
      `The ${what} ran longer than ${timeout} ms; its signal was aborted. Make it faster or raise \`taskTimeout\`.`,
      options,
    )
    ;(this as { code: string }).code = 'E_TASK_TIMEOUT'
  }
}

/**
 * `clear()` rejected a waiter (`E_SEMAPHORE_CLEARED`).
 *
 * @example
 * sem.clear() // every pending acquire() rejects with SemaphoreClearedError
 */
export class SemaphoreClearedError extends HotpathError {
  constructor(what = 'semaphore', options: HotpathErrorOptions = {}) {
    super('E_SEMAPHORE_CLEARED', `The ${what} was cleared while this call waited; it never ran.`, options)
  }
}

/**
 * The primitive was closed; create a new one (`E_CLOSED`).
 *
 * @example
 * await queue.close(); await queue.push(1) // rejects with ClosedError
 */
export class ClosedError extends HotpathError {
  constructor(what: string, options: HotpathErrorOptions = {}) {
    super('E_CLOSED', `The ${what} is closed; create a new one.`, options)
  }
}

/**
 * The holder of a re-entrant lock waited for that same lock to be free, which can never happen
 * while it waits (`E_LOCK_SELF_WAIT`).
 *
 * @example
 * await lock.run(() => lock.waitForUnlock()) // rejects with LockSelfWaitError
 */
export class LockSelfWaitError extends HotpathError {
  constructor(what: string) {
    super(
      'E_LOCK_SELF_WAIT',
      `This code holds the ${what} it waits to be unlocked; the wait could never end. Wait outside run().`,
    )
  }
}

/**
 * A rate limit refused the call (`E_RATE_LIMITED`); `retryAfterMs` says when to try again.
 *
 * @example
 * const result = await limiter.consume(ip)
 * if (!result.allowed) throw new RateLimitedError(result.retryAfterMs)
 */
export class RateLimitedError extends HotpathError {
  /** Milliseconds until the call could be admitted. */
  readonly retryAfterMs: number

  constructor(retryAfterMs: number, options: HotpathErrorOptions = {}) {
    super('E_RATE_LIMITED', `Rate limit reached; retry in ${Math.ceil(retryAfterMs)} ms.`, options)
    this.retryAfterMs = retryAfterMs
  }
}

/**
 * A Redis command did not answer in time or Redis is unavailable and `fallback: 'deny'` is set
 * (`E_REDIS_UNAVAILABLE`).
 *
 * @example
 * const sem = redisSemaphore({ client, key: 'jobs', permits: 4 })
 * await sem.acquire().catch((err) => err.code) // 'E_REDIS_UNAVAILABLE' while Redis is down
 */
export class RedisUnavailableError extends HotpathError {
  constructor(
    message = 'Redis is unavailable or slower than the configured timeout.',
    options: HotpathErrorOptions = {},
  ) {
    super('E_REDIS_UNAVAILABLE', message, options)
  }
}

/**
 * A worker-pool task took longer than its `timeout` (`E_WORKER_TIMEOUT`), counted from the
 * `run()` call: a queued task left the queue without running; a running one had its worker
 * thread stopped (piscina terminates the thread and starts a fresh one).
 *
 * @example
 * await workers.run(job, { timeout: '2s' }).catch((err) => err.code) // 'E_WORKER_TIMEOUT'
 */
export class WorkerTimeoutError extends TimeoutError {
  /** The pool's `name`. */
  readonly pool: string

  constructor(timeout: number, pool: string, options: HotpathErrorOptions = {}) {
    super(
      timeout,
      `The worker pool '${pool}' did not finish a task within ${timeout} ms; make the task smaller or raise \`timeout\`.`,
      options,
    )
    ;(this as { code: string }).code = 'E_WORKER_TIMEOUT'
    this.pool = pool
  }
}

/**
 * A worker-pool task's thread died under it (`E_WORKER_CRASHED`): the worker called
 * `process.exit()`, threw outside the task (an uncaught exception or unhandled rejection in a
 * timer or callback) or was terminated. `cause` is what the thread died of. The pool replaces the
 * thread; the other tasks are not affected.
 *
 * @example
 * await workers.run(job).catch((err) => err.code) // 'E_WORKER_CRASHED' when the thread died
 */
export class WorkerCrashedError extends HotpathError {
  /** The pool's `name`. */
  readonly pool: string

  constructor(pool: string, options: HotpathErrorOptions = {}) {
    const cause = options.cause instanceof Error ? `: ${options.cause.message}` : ''
    super(
      'E_WORKER_CRASHED',
      `A thread of the worker pool '${pool}' died while running this task${cause}; the pool started another. Fix the worker or retry the task.`,
      options,
    )
    this.pool = pool
  }
}

/**
 * The concurrency package's error classes by name.
 *
 * @example
 * if (err instanceof errors.QueueFullError) shed()
 */
export const errors = {
  QueueFullError,
  SemaphoreTimeoutError,
  SemaphoreClearedError,
  TaskTimeoutError,
  ClosedError,
  LockSelfWaitError,
  RateLimitedError,
  RedisUnavailableError,
  WorkerTimeoutError,
  WorkerCrashedError,
} as const
