import {
  AbortedError,
  getTimerService,
  isThenable,
  Timeout,
  TimerEntry,
  type TimerEntryOptions,
  type TimerService,
} from '@hotpath/core'
import { checkChannel, type PollOutcome, progressChannel, settleChannel, stallChannel } from './channels'
import {
  PollAbortedError,
  PollCheckError,
  PollFailedError,
  PollStalledError,
  PollTimeoutError,
} from './errors'
import { LimiterTicket } from './limiter'
import type { PollInfo } from './options'
import { delayRule, type PollSetup, type ResolvedPollOptions } from './rules'
import { CheckContext } from './run-context'
import { boundDelay, nextDelay, usesFixedDelay } from './run-delay'
import {
  AWAITING,
  CHECKING,
  type Check,
  deliver,
  FINISHED,
  HANDLING,
  PAUSED,
  PollExtras,
  type PollSink,
  type PollUpdate,
  pollInfo,
  QUEUED,
  toError,
  tracksProgress,
  WAITING,
} from './run-state'
import { counters } from './stats'

/** The async resource type of a poller's entry (a poller keeps the process alive while it waits). */
const ENTRY_OPTIONS: TimerEntryOptions = { name: 'hotpath:poller' }
/** The process-wide timer service every run schedules on. */
const timers: TimerService = getTimerService()

/**
 * The state machine behind `poll()` and `watch()`. It holds no timer of its own: it is itself
 * the timer-service entry of its next check (created in the caller's async context, so checks
 * run in it), its deadline is a second entry, and a check's outcome is handled by two
 * callbacks bound once, so a round costs no closure and no promise beyond the check's own.
 */
export class PollRun<T> extends TimerEntry {
  #phase = WAITING
  readonly #tracksProgress: boolean
  attempt = 0
  readonly #check: Check<T>
  #ctx: CheckContext<T> | undefined
  readonly #o: ResolvedPollOptions<T>
  /** The delay between checks when it never varies; -1 otherwise. */
  readonly #fixedDelay: number
  state: T | undefined
  /** A `watch()` stream, or the `resolve` of the promise `poll()` returned. */
  readonly #sink: PollSink<T> | ((value: T) => void)
  startedAt = 0
  /** Created on first use (see `PollExtras`). */
  #extras: PollExtras<T> | undefined

  constructor(check: Check<T>, setup: PollSetup<T>, sink: PollSink<T> | ((value: T) => void)) {
    super(ENTRY_OPTIONS)
    this.#check = check
    this.#o = setup.rules
    this.#fixedDelay = setup.fixedDelay
    this.#sink = sink
    this.#tracksProgress = tracksProgress(setup.rules, sink)
  }

  /** Starts polling: the first check runs after `initialDelay` (0: at the next timer tick). */
  start(): void {
    const o = this.#o
    counters.started++
    counters.active++
    const now = timers.now() // one read: the start, the deadline and the first check's due time
    this.startedAt = now
    if (o.signal?.aborted) {
      this.finish('aborted', new PollAbortedError(o.signal.reason, undefined), o.signal.reason)
      return
    }
    const signal = o.signal
    if (signal !== undefined) {
      const onAbort = () =>
        this.finish('aborted', new PollAbortedError(signal.reason, this.state), signal.reason)
      this.extras().onAbort = onAbort
      signal.addEventListener('abort', onAbort, { once: true })
    }
    if (o.deadline !== Number.POSITIVE_INFINITY) {
      const deadline = new Timeout(() => this.onDeadline())
      this.extras().deadlineEntry = deadline
      timers.addAt(deadline, now + o.deadline)
    }
    timers.addAt(this, now + o.initialDelay)
  }

  /** Ends polling without a result (the `watch()` loop was left). No check starts after this. */
  stop(): void {
    const reason = new AbortedError('The watch loop was left.')
    this.finish('stopped', new PollAbortedError(reason, this.state, reason.message), reason)
  }

  /** Resumes after the sink paused on an update. */
  resume(): void {
    if (this.#phase !== PAUSED) return
    this.#phase = WAITING
    timers.add(this, this.extras().nextAt - timers.now())
  }

  /** The signal handed to checks, created on first use. */
  checkSignal(): AbortSignal {
    const x = this.extras()
    if (x.controller === undefined) {
      x.controller = new AbortController()
      // Read for the first time after the poll ended early (a check that awaited before looking).
      if (x.endReason !== undefined) x.controller.abort(x.endReason)
    }
    return x.controller.signal
  }

  /** Ends the poll with `error`: its check used the context wrongly (no retry). */
  misused(error: Error): void {
    this.finish('error', error)
  }

  /** The state kept in `PollExtras`, created on first use. */
  private extras(): PollExtras<T> {
    this.#extras ??= new PollExtras<T>()
    return this.#extras
  }

  /** Timer-service callback, in the caller's async context: the next check is due. */
  fire(): void {
    if (this.#phase !== WAITING) return
    const limiter = this.#o.limiter
    if (limiter !== undefined) {
      this.#phase = QUEUED
      const x = this.extras()
      x.ticket ??= new LimiterTicket(() => this.grant())
      if (!limiter.acquire(x.ticket)) return
    }
    this.startCheck()
  }

  /** Records a `retryAfter()` hint of the running check. */
  setHint(ms: number): void {
    this.extras().hint = ms
  }

  /** Limiter callback: a slot is ours. */
  private grant(): void {
    if (this.#phase === QUEUED) this.runInAsyncScope(this.startCheck, this)
    else this.#o.limiter?.release()
  }

  private startCheck(): void {
    this.#phase = HANDLING
    const attempt = ++this.attempt
    const x = this.#extras
    if (x !== undefined && x.hint !== 0) x.hint = 0
    const onAttempt = this.#o.onAttempt
    if (onAttempt !== undefined || checkChannel.active) {
      const elapsed = timers.now() - this.startedAt
      checkChannel.publish({ name: this.#o.name, attempt, elapsed })
      if (onAttempt !== undefined) this.callHook(onAttempt, { attempt, elapsed })
      // The hook or a subscriber to the check channel ended the poll.
      if (this.#phase === FINISHED) {
        this.#o.limiter?.release()
        return
      }
    }
    this.#phase = CHECKING
    counters.checks++
    let result: T | PromiseLike<T>
    try {
      this.#ctx ??= new CheckContext(this)
      result = this.#check(this.#ctx)
    } catch (error) {
      this.checkFailed(error)
      return
    }
    this.settleCheck(result)
  }

  /** Handles what a check returned: a value now, a promise when it settles. */
  private settleCheck(result: T | PromiseLike<T>): void {
    if (isThenable(result)) {
      // The call returned; the check is in flight until the promise settles (unless the poll
      // ended during the call).
      if (this.#phase === CHECKING) {
        this.#phase = AWAITING
        counters.checking++
      }
      const x = this.extras()
      x.onValue ??= (value: T) => this.checked(value)
      x.onError ??= (error: unknown) => this.checkFailed(error)
      result.then(x.onValue, x.onError)
    } else this.checked(result)
  }

  /** Runs a user hook; a throwing hook ends the poll with its error. */
  private callHook<A>(hook: (arg: A) => void, arg: A): void {
    try {
      hook(arg)
    } catch (error) {
      this.finish('error', toError(error))
    }
  }

  private endCheck(): boolean {
    if (this.#phase !== FINISHED) {
      if (this.#phase === AWAITING) counters.checking--
      this.#phase = HANDLING
      this.#o.limiter?.release()
      return true
    }
    const x = this.#extras
    if (x?.abandoned) {
      x.abandoned = false
      this.#o.limiter?.release()
    }
    return false
  }

  private checked(state: T): void {
    if (!this.endCheck()) return
    const x = this.#extras
    if (x !== undefined && x.failures !== 0) x.failures = 0
    const o = this.#o
    let info: PollInfo<T> | undefined
    let delay: number
    try {
      this.state = state
      if (o.isFailed?.(state)) {
        this.finish('failed', new PollFailedError(state, this.attempt))
        return
      }
      const done = o.isDone(state)
      if (this.#tracksProgress || progressChannel.active) {
        info = this.trackProgress(state, done)
        if (this.#phase !== HANDLING) return // a stall rule or a hook ended the poll
      }
      if (done) {
        if (info !== undefined) {
          this.finish('done', undefined, undefined, { ...info, done: true })
          return
        }
        // Not tracked while polling: the final update still carries the progress.
        if (!this.#tracksProgress)
          this.extras().progress = o.progress === undefined ? state : o.progress(state)
        this.finish(
          'done',
          undefined,
          undefined,
          pollInfo(state, this.#extras, this.attempt, this.startedAt, true),
        )
        return
      }
      delay = this.delay(state, info)
      // A stream that takes updates always tracks progress (see `tracksProgress`): a plain poll
      // reads nothing of its sink until it ends.
      const sink = this.#sink
      if (this.#tracksProgress && typeof sink !== 'function' && sink.update !== undefined) {
        // Kept for `resume()`, should the stream pause on this update.
        this.extras().nextAt = timers.now() + delay
        const update = info ?? pollInfo(state, this.#extras, this.attempt, this.startedAt)
        if (!sink.update({ ...update, done: false })) {
          if (this.#phase === HANDLING) this.#phase = PAUSED
          return
        }
      }
    } catch (error) {
      this.finish('error', toError(error))
      return
    }
    if (this.#phase !== HANDLING) return // a hook or the sink ended the poll
    this.#phase = WAITING
    timers.add(this, delay)
  }

  /**
   * Compares the progress with the previous check's: counts stalls, calls `onProgress` and
   * `onStall`, publishes on the progress and stall channels, and ends the poll on
   * `stall.failAfter` (unless `done`). Returns the info given to a hook, if one was built.
   */
  private trackProgress(state: T, done: boolean): PollInfo<T> | undefined {
    const o = this.#o
    const x = this.extras()
    let info: PollInfo<T> | undefined
    const progress = o.progress === undefined ? state : o.progress(state)
    const previous = x.progress
    if (!x.hasState || !Object.is(progress, previous)) {
      x.hasState = true
      x.stalled = 0
      x.progress = progress
      if (o.onProgress !== undefined) {
        info = pollInfo(state, this.#extras, this.attempt, this.startedAt)
        o.onProgress(info)
      }
      if (progressChannel.active) {
        progressChannel.publish({ name: o.name, attempt: this.attempt, progress, previous })
      }
      return info
    }
    const stalled = ++x.stalled
    const stall = o.stall
    if (done || stall === undefined) return info
    if (stalled >= stall.failAfter) {
      this.finish('stalled', new PollStalledError(stalled, progress, state))
      return info
    }
    if (stalled === stall.after) {
      if (stall.onStall !== undefined) {
        info = pollInfo(state, this.#extras, this.attempt, this.startedAt)
        stall.onStall(info)
      }
      if (stallChannel.active)
        stallChannel.publish({ name: o.name, attempt: this.attempt, stalled, progress })
    }
    return info
  }

  private checkFailed(error: unknown): void {
    if (!this.endCheck()) return
    const rule = this.#o.retry
    counters.checkErrors++
    const x = this.extras()
    const failures = ++x.failures
    let retry = rule !== undefined && failures <= rule.retries
    if (retry && rule!.shouldRetry !== undefined) {
      try {
        retry = rule!.shouldRetry(error, failures)
      } catch (hookError) {
        this.finish('error', toError(hookError))
        return
      }
    }
    if (!retry) {
      this.finish('error', new PollCheckError(error, failures, this.state))
      return
    }
    const delay = boundDelay(
      delayRule(this.#o, this.#fixedDelay),
      x.hint,
      rule!.delay * rule!.factor ** (failures - 1),
    )
    this.#phase = WAITING
    timers.add(this, delay)
  }

  private delay(state: T, info: PollInfo<T> | undefined): number {
    const o = this.#o
    const x = this.#extras
    if (usesFixedDelay(o, this.#fixedDelay, x)) return this.#fixedDelay
    const fn = o.delays?.phases === undefined ? o.delays?.intervalFn : undefined
    const given = fn?.(info ?? pollInfo(state, x, this.attempt, this.startedAt))
    return nextDelay(o, this.#fixedDelay, x, given)
  }

  private onDeadline(): void {
    const error = new PollTimeoutError(this.#o.deadline, this.attempt, this.state)
    this.finish('timeout', error, error)
  }

  private finish(
    outcome: PollOutcome,
    error: Error | undefined,
    abortReason?: unknown,
    final?: PollUpdate<T> | undefined,
  ): void {
    const phase = this.#phase
    if (phase === FINISHED) return
    this.#phase = FINISHED
    const o = this.#o
    timers.remove(this)
    const x = this.#extras
    if (x?.deadlineEntry !== undefined) timers.remove(x.deadlineEntry)
    if (x?.onAbort !== undefined) o.signal!.removeEventListener('abort', x.onAbort)
    if (phase === QUEUED) o.limiter?.cancel(x!.ticket!)
    else if (phase === CHECKING || phase === AWAITING) {
      if (phase === AWAITING) counters.checking--
      this.extras().abandoned = true
    }
    if (abortReason !== undefined) this.extras().endEarly(abortReason)
    counters.active--
    counters.settled[outcome]++
    if (settleChannel.active) {
      const durationMs = timers.now() - this.startedAt
      settleChannel.publish({ name: o.name, outcome, attempts: this.attempt, durationMs, error })
    }
    deliver(this.#sink, error, final)
  }
}
