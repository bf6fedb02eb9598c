import { type Clock, getClock, getTimers, MAX_TIMER_DELAY, type TimerProvider } from '../clock'
import { IndexedHeap } from '../heap'
import { invalidOption, readOptions } from '../options'
import { type Bucket, type EntryOwner, TimerEntry } from './entry'

/**
 * Options of a {@link TimerService}.
 *
 * @example
 * const service = new TimerService({ clock: fake.clock, timers: fake.timers })
 */
export interface TimerServiceOptions {
  /** Where time comes from (its `monotonic()`). @default the current clock, read at each use */
  clock?: Clock
  /** What arms the one underlying timer. @default the current timer provider, read at each use */
  timers?: TimerProvider
}

/**
 * A plain snapshot of a {@link TimerService}.
 *
 * @example
 * const { pending, wakeups }: TimerServiceStats = getTimerService().stats()
 */
export interface TimerServiceStats {
  /** Entries waiting to fire. */
  pending: number
  /** Distinct due times (whole milliseconds) among them. */
  dueTimes: number
  /** Whether the one underlying timer is armed. */
  timerArmed: boolean
  /** Whether that timer keeps the process alive (false while only unref'd entries wait). */
  timerReferenced: boolean
  /** Timer callbacks so far. */
  wakeups: number
  /** Entries fired so far. */
  fired: number
  /** Most entries fired in one timer callback. */
  largestBatch: number
}

const SERVICE_OPTIONS = ['clock', 'timers']

function hasMethod(value: unknown, name: string): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Record<string, unknown>)[name] === 'function'
  )
}

/** Node timers have 1 ms resolution: an entry due within 1 ms of a wake-up fires with it. */
const SLACK_MS = 1

const byDueTime = (a: Bucket, b: Bucket) => a.at < b.at

/** Emptied buckets kept for reuse (more distinct due times than this at once are rare). */
const FREE_BUCKETS = 64

/**
 * Many deadlines and wake-ups on ONE underlying timer. Entries due in the same millisecond share
 * a bucket (adding and removing an entry is O(1); a bucket that empties leaves the heap of due
 * times in O(log n)), and one timer is armed for the earliest bucket, so 10,000 pollers due at
 * the same tick cost one timer callback.
 *
 * The timer keeps the process alive exactly while a ref'd entry is pending (see
 * {@link TimerEntryOptions.ref}). Delays above 2^31-1 ms are never cut short: the timer is armed
 * for at most {@link MAX_TIMER_DELAY} at a time, and a wake-up with nothing due re-arms it. While a
 * wake-up fires its entries, {@link TimerService.now} returns the time read at its start (as
 * libuv holds its loop time for Node's own timers): entries re-added from their callbacks
 * compute the same next due time and stay in one bucket instead of drifting apart. Emptied
 * buckets are reused: a steady round of re-added entries allocates nothing, and long-lived
 * entries never point at freshly allocated buckets (which would cost each of them a
 * generational write barrier per add).
 *
 * @example
 * const service = getTimerService()
 * const deadline = new Timeout(() => controller.abort(new Error('too slow')))
 * service.add(deadline, 2_000)
 * try { await work(controller.signal) } finally { service.remove(deadline) }
 */
export class TimerService implements EntryOwner {
  readonly #clock: Clock | undefined
  readonly #timers: TimerProvider | undefined
  readonly #heap = new IndexedHeap<Bucket>(byDueTime)
  readonly #buckets = new Map<number, Bucket>()
  /** The bucket joined last: consecutive adds for the same due time skip the map. */
  #last: Bucket | undefined
  readonly #free: Bucket[] = []
  #pending = 0
  #referenced = 0
  /** The underlying timer's handle, from `#armedProvider`; undefined while disarmed. */
  #timer: unknown
  #timerAt = Number.POSITIVE_INFINITY
  #timerRef = true
  /** The provider and `globalThis.setTimeout` the timer was armed through (see `#stale`). */
  #armedProvider: TimerProvider | undefined
  #armedSetTimeout: unknown
  /** The wake-up's time while it fires entries; undefined otherwise. */
  #firingAt: number | undefined
  #wakeups = 0
  #fired = 0
  #largestBatch = 0
  /** Counts armed timers: a callback of one cancelled since (see `#arm`) is ignored. */
  #generation = 0

  constructor(options?: TimerServiceOptions) {
    readOptions('new TimerService()', options, SERVICE_OPTIONS)
    if (options?.clock !== undefined && !hasMethod(options.clock, 'monotonic')) {
      throw invalidOption('clock', 'a clock ({ now(), monotonic() })', options.clock)
    }
    if (options?.timers !== undefined && !hasMethod(options.timers, 'setTimeout')) {
      throw invalidOption('timers', 'a timer provider ({ setTimeout(), clearTimeout() })', options.timers)
    }
    this.#clock = options?.clock
    this.#timers = options?.timers
  }

  /** The service's time: monotonic milliseconds, held for the duration of a wake-up. */
  now(): number {
    return this.#firingAt ?? this.#monotonic()
  }

  /**
   * Schedules `entry` to fire after `delay` ms (a negative delay counts as 0); an entry already
   * pending is moved. Throws a `TypeError` for a delay that is not a finite number.
   */
  add(entry: TimerEntry, delay: number): void {
    if (!(entry instanceof TimerEntry)) throw invalidOption('entry', 'a TimerEntry', entry)
    if (typeof delay !== 'number' || !Number.isFinite(delay)) {
      throw invalidOption('delay', 'a finite number of milliseconds', delay)
    }
    this.#insert(entry, this.now() + Math.max(delay, 0))
  }

  /**
   * Schedules `entry` to fire at `at`, a time of {@link TimerService.now} (a time already past
   * fires at the next wake-up); an entry already pending is moved.
   */
  addAt(entry: TimerEntry, at: number): void {
    if (!(entry instanceof TimerEntry)) throw invalidOption('entry', 'a TimerEntry', entry)
    if (typeof at !== 'number' || !Number.isFinite(at)) {
      throw invalidOption('at', 'a finite monotonic time in milliseconds', at)
    }
    this.#insert(entry, at)
  }

  /** Removes `entry` if it is pending here; returns whether it was. O(1), O(log n) at worst. */
  remove(entry: TimerEntry): boolean {
    if (entry.bucket?.owner !== this) return false
    this.#unlink(entry)
    // The timer stays armed for a bucket that left: it wakes up, finds nothing and re-arms. Only
    // its ref state follows at once, so a process waiting on nothing else can exit.
    if (this.#pending === 0) this.#disarm()
    else this.#syncRef()
    return true
  }

  /** A plain snapshot. */
  stats(): TimerServiceStats {
    return {
      pending: this.#pending,
      dueTimes: this.#heap.size,
      timerArmed: this.#timer !== undefined,
      timerReferenced: this.#timer !== undefined && this.#timerRef,
      wakeups: this.#wakeups,
      fired: this.#fired,
      largestBatch: this.#largestBatch,
    }
  }

  /** @internal an entry pending here was ref'd or unref'd */
  refChanged(entry: TimerEntry): void {
    this.#referenced += entry.referenced ? 1 : -1
    this.#syncRef()
  }

  #monotonic(): number {
    return (this.#clock ?? getClock()).monotonic()
  }

  #insert(entry: TimerEntry, dueAt: number): void {
    entry.bucket?.owner.remove(entry)
    // Whole milliseconds, rounded up (never early); the epsilon keeps 200 × 1.1 at 220.
    const at = Math.ceil(dueAt - 1e-7)
    let bucket = this.#last
    let created = false
    if (bucket === undefined || bucket.at !== at || bucket.closed) {
      bucket = this.#buckets.get(at)
      if (bucket === undefined) {
        bucket = this.#newBucket(at)
        this.#buckets.set(at, bucket)
        this.#heap.push(bucket)
        created = true
      }
      this.#last = bucket
    }
    const slot = bucket.size++
    if (slot < bucket.entries.length) bucket.entries[slot] = entry
    else bucket.entries.push(entry)
    entry.slot = slot
    entry.bucket = bucket
    bucket.live++
    this.#pending++
    if (entry.referenced) this.#referenced++
    // Only a new due time can need another timer (an existing bucket is covered by the armed
    // one), and only then is the timer checked for having been armed through replaced timers.
    if (this.#timer === undefined || (created && (at < this.#timerAt || this.#stale()))) this.#arm()
    else if (entry.referenced && !this.#timerRef) this.#syncRef()
  }

  #unlink(entry: TimerEntry): void {
    const bucket = entry.bucket!
    bucket.entries[entry.slot] = undefined
    entry.bucket = undefined
    entry.slot = -1
    this.#pending--
    if (entry.referenced) this.#referenced--
    // A closed bucket is firing: the wake-up drops it when done.
    if (--bucket.live === 0 && !bucket.closed) {
      bucket.closed = true
      this.#heap.remove(bucket)
      this.#buckets.delete(bucket.at)
      this.#recycle(bucket)
    }
  }

  #newBucket(at: number): Bucket {
    const bucket = this.#free.pop()
    if (bucket === undefined)
      return { owner: this, heapIndex: -1, at, entries: [], size: 0, live: 0, closed: false }
    bucket.at = at
    bucket.closed = false
    return bucket
  }

  /** Takes back a bucket that left the heap with every slot empty. */
  #recycle(bucket: Bucket): void {
    bucket.size = 0
    bucket.live = 0
    if (this.#last === bucket) this.#last = undefined
    if (this.#free.length < FREE_BUCKETS) this.#free.push(bucket)
  }

  /**
   * True when the timer was armed through another `setTimeout` than the one in place now: fake
   * timers were installed or removed since, and the armed timer would never fire.
   */
  #stale(): boolean {
    return (
      this.#armedProvider !== (this.#timers ?? getTimers()) ||
      (this.#timers === undefined && this.#armedSetTimeout !== globalThis.setTimeout)
    )
  }

  #arm(): void {
    const top = this.#heap.peek()
    if (top === undefined) {
      this.#disarm()
      return
    }
    if (this.#timer === undefined || top.at < this.#timerAt || this.#stale()) {
      this.#cancelTimer()
      const provider = this.#timers ?? getTimers()
      this.#armedProvider = provider
      this.#armedSetTimeout = globalThis.setTimeout
      this.#timerAt = top.at
      // A due time beyond the largest delay Node accepts is reached in steps: the early wake-up
      // finds nothing due and arms the next step.
      const delay = Math.min(Math.max(0, top.at - this.#monotonic()), MAX_TIMER_DELAY)
      this.#timerRef = true
      // A timer cleared through another provider than the one that armed it (fake timers
      // installed or removed since) may still fire: only the current one wakes the service.
      const generation = ++this.#generation
      this.#timer = provider.setTimeout(() => {
        if (generation === this.#generation) this.#wake()
      }, delay)
    }
    this.#syncRef()
  }

  #disarm(): void {
    this.#cancelTimer()
    this.#timerAt = Number.POSITIVE_INFINITY
  }

  #cancelTimer(): void {
    if (this.#timer === undefined) return
    this.#generation++
    this.#armedProvider!.clearTimeout(this.#timer)
    this.#timer = undefined
  }

  /** The timer is ref'd iff a ref'd entry is pending. */
  #syncRef(): void {
    const timer = this.#timer
    if (timer === undefined) return
    const wanted = this.#referenced > 0
    if (wanted === this.#timerRef) return
    this.#timerRef = wanted
    // Node's handles have ref()/unref(); a provider's handle without them is left as it is.
    if (timer !== null && typeof timer === 'object') {
      const handle = timer as { ref?: () => unknown; unref?: () => unknown }
      if (wanted) handle.ref?.()
      else handle.unref?.()
    }
  }

  #wake(): void {
    this.#timer = undefined
    this.#timerAt = Number.POSITIVE_INFINITY
    this.#wakeups++
    const now = this.#monotonic()
    // Collect first, then fire: an entry re-added while firing goes to an open bucket and waits
    // for the next wake-up, so a zero-delay re-add can never spin inside one callback.
    const due: Bucket[] = []
    for (
      let top = this.#heap.peek();
      top !== undefined && top.at <= now + SLACK_MS;
      top = this.#heap.peek()
    ) {
      this.#heap.pop()
      this.#buckets.delete(top.at)
      top.closed = true
      due.push(top)
    }
    let batch = 0
    this.#firingAt = now
    try {
      for (const bucket of due) {
        batch += this.#fireBucket(bucket)
        this.#recycle(bucket)
      }
    } finally {
      this.#firingAt = undefined
    }
    this.#fired += batch
    if (batch > this.#largestBatch) this.#largestBatch = batch
    this.#arm()
  }

  /** Fires a closed bucket's entries in insertion order; a callback may remove any of the rest. */
  #fireBucket(bucket: Bucket): number {
    const entries = bucket.entries
    let fired = 0
    for (let i = 0; i < bucket.size; i++) {
      const entry = entries[i]
      if (entry === undefined) continue
      this.#unlink(entry)
      fired++
      try {
        entry.runInAsyncScope(entry.fire, entry)
      } catch (error) {
        queueMicrotask(() => {
          throw error
        })
      }
    }
    return fired
  }
}

let shared: TimerService | undefined

/**
 * The process-wide timer service every hotpath package schedules on, created on first use. It
 * reads the current clock and timer provider at each use, so `setClock`, `setTimers` and fake
 * timers apply to it.
 *
 * @example
 * const { pending, timerReferenced } = getTimerService().stats()
 */
export function getTimerService(): TimerService {
  shared ??= new TimerService()
  return shared
}
