import { formatDuration, HotpathError } from '@hotpath/core'

/**
 * `poll()` reached its `deadline` (`E_POLL_TIMEOUT`). The check in flight, if any, had its signal
 * aborted with this error.
 *
 * @example
 * try { await poll(check, { deadline: '10m' }) } catch (err) {
 *   if (err instanceof PollTimeoutError) console.log(err.attempts, err.state)
 * }
 */
export class PollTimeoutError extends HotpathError {
  /** The deadline that elapsed, in milliseconds. */
  readonly deadline: number
  /** Checks started before the deadline. */
  readonly attempts: number
  /** The last state a check returned (undefined if none completed). */
  readonly state: unknown

  constructor(deadline: number, attempts: number, state: unknown) {
    super(
      'E_POLL_TIMEOUT',
      `Polling did not finish within its deadline of ${formatDuration(deadline)} (${attempts} checks); ` +
        'raise `deadline` or look at `state` for where the job stopped.',
    )
    this.deadline = deadline
    this.attempts = attempts
    this.state = state
  }
}

/**
 * The progress did not change for `stall.failAfter` consecutive checks (`E_POLL_STALLED`).
 *
 * @example
 * poll(check, { progress: (s) => s.percent, stall: { after: 3, failAfter: 20 } })
 *   .catch((err) => { if (err.code === 'E_POLL_STALLED') cancelJob() })
 */
export class PollStalledError extends HotpathError {
  /** Consecutive checks without progress. */
  readonly stalledChecks: number
  /** The progress value it was stuck at. */
  readonly progress: unknown
  /** The last state. */
  readonly state: unknown

  constructor(stalledChecks: number, progress: unknown, state: unknown) {
    super(
      'E_POLL_STALLED',
      `No progress for ${stalledChecks} consecutive checks (stuck at ${String(progress)}); ` +
        'the job looks stuck: cancel or restart it, or raise `stall.failAfter`.',
    )
    this.stalledChecks = stalledChecks
    this.progress = progress
    this.state = state
  }
}

/**
 * The poll's `signal` aborted, or the `watch()` loop was left (`E_POLL_ABORTED`). The signal's
 * reason is the `cause`.
 *
 * @example
 * controller.abort('user left')
 * // poll(...) rejects with PollAbortedError, err.cause === 'user left'
 */
export class PollAbortedError extends HotpathError {
  /** The last state (undefined if no check completed). */
  readonly state: unknown

  constructor(cause: unknown, state: unknown, message = 'Polling was aborted through its signal.') {
    super('E_POLL_ABORTED', message, { cause })
    this.state = state
  }
}

/**
 * `isFailed(state)` returned true (`E_POLL_FAILED`): the job itself failed.
 *
 * @example
 * poll(check, { isFailed: (s) => s.status === 'error' })
 *   .catch((err) => { if (err instanceof PollFailedError) log(err.state) })
 */
export class PollFailedError extends HotpathError {
  /** The state that `isFailed` accepted. */
  readonly state: unknown
  /** The check number that saw it (1-based). */
  readonly attempts: number

  constructor(state: unknown, attempts: number) {
    super(
      'E_POLL_FAILED',
      `The polled job reported failure on check ${attempts}; see \`state\` for its details.`,
    )
    this.state = state
    this.attempts = attempts
  }
}

/**
 * The check threw and `retry` did not allow another try (`E_POLL_CHECK_FAILED`); the check's
 * error is the `cause`.
 *
 * @example
 * poll(check, { retry: { retries: 5 } }).catch((err) => {
 *   if (err instanceof PollCheckError) console.error(err.cause)
 * })
 */
export class PollCheckError extends HotpathError {
  /** Consecutive failed checks, including this one. */
  readonly failures: number
  /** The last state a successful check returned (undefined if none). */
  readonly state: unknown

  constructor(cause: unknown, failures: number, state: unknown) {
    super(
      'E_POLL_CHECK_FAILED',
      `The check failed ${failures} time(s) in a row and retries are exhausted; ` +
        'see `cause`, or allow more with `retry`.',
      { cause },
    )
    this.failures = failures
    this.state = state
  }
}

/**
 * `job.trigger()` was called on a stopped `every()` job (`E_POLL_JOB_STOPPED`).
 *
 * @example
 * await job.stop()
 * await job.trigger() // rejects with JobStoppedError
 */
export class JobStoppedError extends HotpathError {
  constructor(name: string) {
    super('E_POLL_JOB_STOPPED', `The job '${name}' is stopped; create a new one with every().`)
  }
}

/**
 * Every error class of `@hotpath/poller` by name.
 *
 * @example
 * if (err instanceof errors.PollTimeoutError) showSpinnerTimeout()
 */
export const errors = {
  PollTimeoutError,
  PollStalledError,
  PollAbortedError,
  PollFailedError,
  PollCheckError,
  JobStoppedError,
} as const
