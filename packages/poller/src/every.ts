import {
  checkBoolean,
  checkFunction,
  checkKnownOptions,
  checkNumber,
  checkOptionsObject,
  checkSignal,
  checkString,
  type Duration,
  describeMetrics,
  getTimerService,
  invalidOption,
  type MetricsDescriptor,
  metricsSource,
  parseDuration,
  Summary,
  type SummarySnapshot,
  Timeout,
  TimeoutError,
} from '@hotpath/core'
import { jobChannel } from './channels'
import { JobStoppedError } from './errors'
import { counters } from './stats'

/**
 * What a job's task receives.
 *
 * @example
 * every('1m', ({ signal, run }) => sync({ signal, full: run % 60 === 0 }))
 */
export interface JobContext {
  /** Aborts when the run exceeds `timeout` or the job's `signal` aborts. */
  readonly signal: AbortSignal
  /** This run's number, from 1. */
  readonly run: number
}

/**
 * Growth of the delay after failed runs.
 *
 * @example
 * every('1m', sync, { backoff: { initial: '5s', factor: 2, max: '10m' } })
 */
export interface JobBackoffOptions {
  /** Delay after the first failure. @default the interval */
  initial?: Duration
  /** Growth per further consecutive failure. @default 2 */
  factor?: number
  /** Largest delay after failures. @default 8 × the interval, or `initial` when that is longer */
  max?: Duration
}

/**
 * Options of {@link every}.
 *
 * @example
 * const options: EveryOptions = { runOnStart: true, jitter: 0.1, timeout: '30s', unref: true }
 */
export interface EveryOptions {
  /** Label for stats and the `hotpath:poller:job` channel. @default the task's name, or 'job' */
  name?: string
  /** Random spread of each delay, as a fraction (0.1 = ±10%). @default 0 */
  jitter?: number
  /** Run once right away instead of after the first interval. @default false */
  runOnStart?: boolean
  /** Delays after consecutive failures; `false` keeps the interval. @default { factor: 2 } */
  backoff?: JobBackoffOptions | false
  /**
   * Time allowed per run: the task's signal aborts and the run counts as failed. The job still
   * waits for the task to settle before the next run, so runs never overlap. @default Infinity
   */
  timeout?: Duration
  /** Stops the job (like `stop()`) and aborts the running task's signal. @default undefined */
  signal?: AbortSignal
  /** Let the process exit while the job only waits for its next run. @default false */
  unref?: boolean
  /** Called with each failed run's error (the job keeps going). @default undefined */
  onError?: (error: unknown, info: { run: number; failures: number }) => void
}

/**
 * A plain snapshot of a job.
 *
 * @example
 * const { runs, failures, durations } = every('5m', refresh).stats()
 */
export interface JobStats {
  name: string
  /** Runs finished so far. */
  runs: number
  /** Runs that threw or timed out. */
  failures: number
  /** Failures since the last success. */
  consecutiveFailures: number
  /** Runs that exceeded `timeout`. */
  timeouts: number
  /** Whether a run is in progress. */
  running: boolean
  /** Whether the job is stopped. */
  stopped: boolean
  /** Milliseconds until the next run (undefined while running or stopped). */
  nextRunIn: number | undefined
  /** The last failure's error, cleared by a success. */
  lastError: unknown
  /** Run durations in milliseconds. */
  durations: SummarySnapshot
}

/**
 * A background job created by {@link every}.
 *
 * @example
 * const job = every('5m', refresh)
 * await job.trigger()
 * console.log(job.stats().durations.p99)
 * await job.stop()
 */
export interface Job extends AsyncDisposable {
  /** The job's name. */
  readonly name: string
  /** Whether a run is in progress. */
  readonly running: boolean
  /** Whether the job is stopped. */
  readonly stopped: boolean
  /**
   * Runs the task now (or joins the run in progress) and settles with its outcome; the next
   * scheduled run comes one interval after this one ends.
   */
  trigger(): Promise<void>
  /** Stops scheduling and resolves once a run in progress has finished. Idempotent. */
  stop(): Promise<void>
  /** A plain snapshot. */
  stats(): JobStats
  /** Lets `collect()` from @hotpath/metrics read this job's stats. */
  readonly [metricsSource]: () => MetricsDescriptor
}

type Task = (context: JobContext) => unknown

interface RunOutcome {
  ok: boolean
  error: unknown
}

const MAX_FAILURE_EXPONENT = 64

class EveryJob implements Job {
  /** Lets `collect()` from @hotpath/metrics read this primitive's stats as `other` metrics. */
  readonly [metricsSource] = describeMetrics('other', () => this.stats())
  readonly name: string
  readonly #task: Task
  readonly #interval: number
  readonly #jitter: number
  readonly #backoff: { initial: number; factor: number; max: number } | undefined
  readonly #timeout: number
  readonly #signal: AbortSignal | undefined
  readonly #onError: EveryOptions['onError']
  readonly #entry: Timeout
  readonly #timeoutEntry: Timeout
  #controller: AbortController | undefined
  #running: Promise<RunOutcome> | undefined
  #stopped = false
  #runs = 0
  #failures = 0
  #consecutive = 0
  #timeouts = 0
  #timedOut = false
  #lastError: unknown
  readonly #durations = new Summary()
  readonly #onAbort = () => {
    this.#controller?.abort(this.#signal!.reason)
    void this.stop()
  }

  constructor(interval: Duration, task: Task, options: EveryOptions | undefined) {
    this.#task = checkFunction('task', task)
    this.#interval = parseDuration(interval, 'interval', { positive: true })
    const o = checkOptionsObject('options', options)
    checkKnownOptions('every()', o, [
      'name',
      'jitter',
      'runOnStart',
      'backoff',
      'timeout',
      'signal',
      'unref',
      'onError',
    ])
    this.name = checkString('name', o.name ?? (task.name || 'job'))
    this.#jitter = checkNumber('jitter', o.jitter ?? 0, { min: 0, max: 1 })
    const runOnStart = checkBoolean('runOnStart', o.runOnStart ?? false)
    if (o.backoff === false) this.#backoff = undefined
    else {
      const b = checkOptionsObject('backoff', o.backoff)
      checkKnownOptions('`backoff`', b, ['initial', 'factor', 'max'])
      const initial = parseDuration(b.initial ?? this.#interval, 'backoff.initial')
      // Without a `max`, the cap is 8 intervals, or the initial delay itself when that is longer.
      const max =
        b.max === undefined ? Math.max(this.#interval * 8, initial) : parseDuration(b.max, 'backoff.max')
      if (max < initial)
        throw invalidOption('backoff.max', `a duration >= backoff.initial (${initial} ms)`, b.max)
      this.#backoff = { initial, factor: checkNumber('backoff.factor', b.factor ?? 2, { min: 1 }), max }
    }
    this.#timeout = parseDuration(o.timeout ?? Number.POSITIVE_INFINITY, 'timeout', {
      allowInfinity: true,
      positive: true,
    })
    this.#signal = checkSignal('signal', o.signal)
    this.#onError =
      o.onError === undefined
        ? undefined
        : checkFunction<NonNullable<EveryOptions['onError']>>('onError', o.onError)
    const ref = !checkBoolean('unref', o.unref ?? false)
    // Entries keep the async context they were created in: runs started by the timer see the
    // context of the every() call.
    this.#entry = new Timeout(() => void this.#run(), { ref })
    this.#timeoutEntry = new Timeout(() => this.#onTimeout(), { ref })
    if (this.#signal?.aborted) {
      this.#stopped = true
      return
    }
    this.#signal?.addEventListener('abort', this.#onAbort, { once: true })
    counters.jobs++
    getTimerService().add(this.#entry, runOnStart ? 0 : this.#spread(this.#interval))
  }

  get running(): boolean {
    return this.#running !== undefined
  }

  get stopped(): boolean {
    return this.#stopped
  }

  async trigger(): Promise<void> {
    if (this.#stopped) throw new JobStoppedError(this.name)
    const outcome = await this.#run()
    if (!outcome.ok) throw outcome.error
  }

  async stop(): Promise<void> {
    if (!this.#stopped) {
      this.#stopped = true
      counters.jobs--
      const timers = getTimerService()
      timers.remove(this.#entry)
      this.#signal?.removeEventListener('abort', this.#onAbort)
    }
    await this.#running
  }

  stats(): JobStats {
    const entry = this.#entry
    return {
      name: this.name,
      runs: this.#runs,
      failures: this.#failures,
      consecutiveFailures: this.#consecutive,
      timeouts: this.#timeouts,
      running: this.#running !== undefined,
      stopped: this.#stopped,
      nextRunIn: entry.pending ? Math.max(0, entry.at - getTimerService().now()) : undefined,
      lastError: this.#lastError,
      durations: this.#durations.snapshot(),
    }
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop()
  }

  #run(): Promise<RunOutcome> {
    if (this.#running !== undefined) return this.#running
    const timers = getTimerService()
    timers.remove(this.#entry)
    const controller = new AbortController()
    this.#controller = controller
    this.#timedOut = false
    if (this.#timeout !== Number.POSITIVE_INFINITY) timers.add(this.#timeoutEntry, this.#timeout)
    const run = this.#runs + 1
    const started = timers.now()
    let result: unknown
    try {
      result = this.#task({ signal: controller.signal, run })
    } catch (error) {
      result = Promise.reject(error)
    }
    // Settles on a later microtask even for a synchronous task, after `#running` is set.
    const running = Promise.resolve(result).then(
      (): RunOutcome =>
        this.#settle(
          run,
          started,
          this.#timedOut
            ? {
                ok: false,
                error: new TimeoutError(this.#timeout, `Job '${this.name}' run ${run} timed out.`),
              }
            : { ok: true, error: undefined },
        ),
      (error: unknown): RunOutcome => this.#settle(run, started, { ok: false, error }),
    )
    this.#running = running
    return running
  }

  #settle(run: number, started: number, outcome: RunOutcome): RunOutcome {
    const timers = getTimerService()
    timers.remove(this.#timeoutEntry)
    const durationMs = timers.now() - started
    this.#runs = run
    this.#durations.record(durationMs)
    this.#running = undefined
    this.#controller = undefined
    if (outcome.ok) {
      this.#consecutive = 0
      this.#lastError = undefined
    } else {
      this.#failures++
      this.#consecutive++
      this.#lastError = outcome.error
    }
    if (jobChannel.active) jobChannel.publish({ name: this.name, run, durationMs, error: outcome.error })
    if (!outcome.ok && this.#onError !== undefined) {
      try {
        this.#onError(outcome.error, { run, failures: this.#consecutive })
      } catch (error) {
        queueMicrotask(() => {
          throw error
        })
      }
    }
    if (!this.#stopped) timers.add(this.#entry, this.#nextDelay())
    return outcome
  }

  #nextDelay(): number {
    const backoff = this.#backoff
    if (this.#consecutive === 0 || backoff === undefined) return this.#spread(this.#interval)
    const exponent = Math.min(this.#consecutive - 1, MAX_FAILURE_EXPONENT)
    return this.#spread(Math.min(backoff.max, backoff.initial * backoff.factor ** exponent))
  }

  #spread(delay: number): number {
    return this.#jitter > 0 ? delay * (1 + this.#jitter * (2 * Math.random() - 1)) : delay
  }

  #onTimeout(): void {
    this.#timedOut = true
    this.#timeouts++
    this.#controller?.abort(new TimeoutError(this.#timeout, `Job '${this.name}' run exceeded its timeout.`))
  }
}

/**
 * Runs `task` every `interval` in the background on the shared timer service: never two runs at
 * once (the next delay starts when a run ends), a longer delay after failures (`backoff`), an
 * optional per-run `timeout`, `job.trigger()` to run now, `await job.stop()` to stop after the
 * run in progress. A failing task never crashes the process: errors go to `onError`, stats and
 * the `hotpath:poller:job` channel.
 *
 * @example
 * // token refresh checks off the request path, at most every 5 minutes
 * const job = every('5m', ({ signal }) => refreshTokens({ signal }), { jitter: 0.1, runOnStart: true, timeout: '30s' })
 * process.on('SIGTERM', () => job.stop())
 */
export function every(
  interval: Duration,
  task: (context: JobContext) => unknown,
  options?: EveryOptions,
): Job {
  return new EveryJob(interval, task, options)
}
