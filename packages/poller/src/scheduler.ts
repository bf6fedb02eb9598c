import { AsyncResource } from 'node:async_hooks'
import { getClock, IndexedHeap, schedule, type TimerHandle } from '@hotpath/core'

/**
 * One pending callback of the shared scheduler. Owners keep one entry per recurring purpose (a
 * poller's next check, its deadline) and re-add it each time, so scheduling allocates nothing.
 * Subclasses override `fire()` (a poller is its own entry: one object less to touch per check).
 * An entry is an `AsyncResource` created in its owner's async context, so the one timer serving
 * everyone can run each callback in the right context without a second object per entry.
 */
export class ScheduledEntry extends AsyncResource {
  /** Due time on the scheduler clock (whole milliseconds). */
  at = 0
  /** The bucket holding the entry while it is scheduled. */
  bucket: Bucket | undefined = undefined
  /** Position inside the bucket. */
  index = -1
  /** Whether this entry keeps the process alive while pending. */
  readonly ref: boolean
  readonly #callback: (() => void) | undefined

  constructor(callback?: () => void, ref = true) {
    super('hotpath:poller')
    this.#callback = callback
    this.ref = ref
  }

  /** True while the entry waits to fire. */
  get scheduled(): boolean {
    return this.bucket !== undefined
  }

  /** Called by the scheduler when due. */
  fire(): void {
    if (this.#callback !== undefined) this.runInAsyncScope(this.#callback)
  }
}

/** Every entry due in the same millisecond shares one bucket; the heap orders buckets, not entries. */
interface Bucket {
  heapIndex: number
  at: number
  entries: ScheduledEntry[]
  /** Set once the bucket left the heap (to fire, or emptied): removals then only unlink. */
  closed: boolean
}

/**
 * A plain snapshot of the shared scheduler.
 *
 * @example
 * const { pending, wakeups }: SchedulerStats = pollerStats().scheduler
 */
export interface SchedulerStats {
  /** Entries waiting to fire. */
  pending: number
  /** Distinct due times among them (heap size). */
  dueTimes: number
  /** Whether the one underlying timer is armed. */
  timerArmed: boolean
  /** Whether that timer keeps the process alive (false when only unref'd jobs wait). */
  timerReferenced: boolean
  /** Timer callbacks so far. */
  wakeups: number
  /** Entries fired so far. */
  fired: number
  /** Most entries fired in one timer callback. */
  largestBatch: number
}

/** Node timers have 1 ms resolution: an entry due within 1 ms of a wake-up fires with it. */
const SLACK_MS = 1

/**
 * The one timer behind every poller and job. Entries due in the same millisecond share a bucket
 * (O(1) insert and remove); buckets sit in core's `IndexedHeap`. One timer is armed for the
 * earliest bucket, so 10,000 pollers due at the same tick cost one timer callback.
 *
 * While a wake-up that fires several entries runs, and until the event loop reaches its check
 * phase (one `setImmediate`), `now()` returns the time read at the start of the wake-up, as
 * libuv caches the loop time for Node's own timers.
 * Checks that settle within that turn therefore compute the same next due time and stay in
 * one bucket instead of drifting apart by the time it took to run them.
 */
export class Scheduler {
  readonly #heap = new IndexedHeap<Bucket>((a, b) => a.at < b.at)
  readonly #buckets = new Map<number, Bucket>()
  #pending = 0
  #referenced = 0
  #timer: TimerHandle | undefined
  #timerAt = Number.POSITIVE_INFINITY
  #timerRef = true
  /** `globalThis.setTimeout` when the timer was armed: if it changed (fake timers installed or
   * removed), the old timer will never fire and is replaced. */
  #armedWith: unknown
  #tick: number | undefined
  /** The bucket joined last: consecutive adds for the same due time skip the map lookup. */
  #last: Bucket | undefined
  #untickQueued = false
  #untickWith: unknown
  #wakeups = 0
  #fired = 0
  #largestBatch = 0

  readonly #onTimer = () => this.#wake()
  readonly #untick = () => {
    this.#untickQueued = false
    this.#tick = undefined
  }

  /** The scheduler clock: monotonic milliseconds, frozen for the duration of a wake-up's turn. */
  now(): number {
    const tick = this.#tick
    if (tick === undefined) return getClock().monotonic()
    // The immediate that ends the turn was queued on another setImmediate (fake timers were
    // installed or removed since): it may never run, so the frozen time is dropped here.
    if (globalThis.setImmediate !== this.#untickWith) {
      this.#untick()
      return getClock().monotonic()
    }
    return tick
  }

  /** Schedules (or reschedules) `entry` to fire after `delay` ms. */
  add(entry: ScheduledEntry, delay: number): void {
    if (entry.bucket !== undefined) this.#unlink(entry)
    // Rounded up to whole milliseconds (the timer resolution); the epsilon keeps 200 × 1.1 at 220.
    const at = Math.ceil(this.now() + Math.max(delay, 0) - 1e-7)
    let bucket = this.#last
    if (bucket === undefined || bucket.at !== at || bucket.closed) {
      bucket = this.#buckets.get(at)
      if (bucket === undefined) {
        bucket = { heapIndex: -1, at, entries: [], closed: false }
        this.#buckets.set(at, bucket)
        this.#heap.push(bucket)
      }
      this.#last = bucket
    }
    entry.at = at
    entry.bucket = bucket
    entry.index = bucket.entries.length
    bucket.entries.push(entry)
    this.#pending++
    if (entry.ref) this.#referenced++
    // Joining a bucket that already exists changes nothing for the timer, unless this entry is
    // the first referenced one or fake timers were swapped since the timer was armed.
    if (
      bucket.entries.length === 1 ||
      (entry.ref && this.#referenced === 1) ||
      this.#armedWith !== globalThis.setTimeout
    ) {
      this.#arm()
    }
  }

  /** Removes `entry` if scheduled; returns whether it was. */
  remove(entry: ScheduledEntry): boolean {
    if (entry.bucket === undefined) return false
    this.#unlink(entry)
    this.#arm()
    return true
  }

  /** A plain snapshot. */
  stats(): SchedulerStats {
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

  #unlink(entry: ScheduledEntry): void {
    const bucket = entry.bucket!
    entry.bucket = undefined
    this.#pending--
    if (entry.ref) this.#referenced--
    if (bucket.closed) return
    const entries = bucket.entries
    const last = entries.pop()!
    if (last !== entry) {
      entries[entry.index] = last
      last.index = entry.index
    }
    entry.index = -1
    if (entries.length === 0) {
      bucket.closed = true
      this.#heap.remove(bucket)
      this.#buckets.delete(bucket.at)
    }
  }

  #arm(): void {
    const top = this.#heap.peek()
    if (top === undefined) {
      if (this.#timer !== undefined) {
        this.#timer.cancel()
        this.#timer = undefined
        this.#timerAt = Number.POSITIVE_INFINITY
      }
      return
    }
    if (this.#timer === undefined || top.at < this.#timerAt || this.#armedWith !== globalThis.setTimeout) {
      this.#timer?.cancel()
      this.#armedWith = globalThis.setTimeout
      this.#timerAt = top.at
      this.#timer = schedule(this.#onTimer, Math.max(0, top.at - getClock().monotonic()))
      this.#timerRef = true
    }
    const wantRef = this.#referenced > 0
    if (wantRef !== this.#timerRef) {
      this.#timerRef = wantRef
      if (wantRef) this.#timer.ref()
      else this.#timer.unref()
    }
  }

  #freeze(now: number): void {
    this.#tick = now
    if (!this.#untickQueued || this.#untickWith !== globalThis.setImmediate) {
      this.#untickQueued = true
      this.#untickWith = globalThis.setImmediate
      globalThis.setImmediate(this.#untick)
    }
  }

  #wake(): void {
    this.#timer = undefined
    this.#timerAt = Number.POSITIVE_INFINITY
    this.#wakeups++
    const now = getClock().monotonic()
    // Collect first, then fire: an entry re-added while firing waits for the next wake-up,
    // so a zero-delay reschedule can never spin inside one callback.
    const due: Bucket[] = []
    let dueEntries = 0
    for (
      let top = this.#heap.peek();
      top !== undefined && top.at <= now + SLACK_MS;
      top = this.#heap.peek()
    ) {
      this.#heap.pop()
      this.#buckets.delete(top.at)
      top.closed = true
      due.push(top)
      dueEntries += top.entries.length
    }
    // Freezing the clock only matters when several entries could drift apart; a lone entry
    // leaves no pending immediate behind (which fake-timer tests would count).
    if (dueEntries > 1) this.#freeze(now)
    let batch = 0
    for (const bucket of due) {
      const entries = bucket.entries
      for (let i = 0; i < entries.length; i++) {
        const entry = entries[i]!
        if (entry.bucket !== bucket) continue // removed or rescheduled by an earlier callback
        entry.bucket = undefined
        entry.index = -1
        this.#pending--
        if (entry.ref) this.#referenced--
        batch++
        try {
          entry.fire()
        } catch (error) {
          queueMicrotask(() => {
            throw error
          })
        }
      }
    }
    this.#fired += batch
    if (batch > this.#largestBatch) this.#largestBatch = batch
    this.#arm()
  }
}

let shared: Scheduler | undefined

/**
 * The process-wide scheduler, created on first use.
 *
 * @example
 * getScheduler().stats().pending
 */
export function getScheduler(): Scheduler {
  shared ??= new Scheduler()
  return shared
}
