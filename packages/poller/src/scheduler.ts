import { AsyncResource, executionAsyncId } from 'node:async_hooks'
import { getClock, IndexedHeap, schedule, type TimerHandle } from '@hotpath/core'

/**
 * One pending item of the shared scheduler. Owners keep one entry per recurring purpose (a
 * poller's next check, its deadline) and re-add it each time, so scheduling allocates nothing.
 * A poller is its own entry (one object less to touch per check). An entry is an `AsyncResource`
 * created in its owner's async context, so the one timer serving everyone can run each callback
 * in the right context without a second object per entry.
 */
export abstract class SchedulerEntry extends AsyncResource {
  // These come first: the scheduler touches them for every entry it fires or adds.
  /** The bucket holding the entry while it is scheduled. */
  bucket: Bucket | undefined = undefined
  /** The entry's position in its bucket's list while scheduled; -1 otherwise. */
  slot = -1
  /**
   * Whether this entry keeps the process alive while pending. Declared by each class (a field,
   * or a getter when constant), so a class that always holds the process open spends no memory
   * on it.
   */
  abstract readonly ref: boolean

  constructor() {
    // The documented default trigger, passed as a number: the options-object path of the
    // constructor reads two properties through a lookup shared by every AsyncResource in the
    // process (megamorphic); skipping it makes starting a poll about 12% cheaper.
    super('hotpath:poller', executionAsyncId())
    if (new.target !== lastType) {
      lastType = new.target
      if (!smiIds.has(new.target)) storeIdsAsSmis(this, new.target)
    }
    // Node computes the ids in floating point and hands them over boxed; put back as small
    // integers they sit inside this object (see `storeIdsAsSmis`).
    if (asyncIdKey !== undefined && triggerIdKey !== undefined) {
      const self = this as unknown as Record<symbol, number>
      const id = self[asyncIdKey]!
      if (id <= MAX_INLINE_ID) self[asyncIdKey] = id | 0
      const trigger = self[triggerIdKey]!
      if (trigger <= MAX_INLINE_ID) self[triggerIdKey] = trigger | 0
    }
  }

  /** True while the entry waits to fire. */
  get scheduled(): boolean {
    return this.bucket !== undefined
  }

  /** Due time on the scheduler clock (whole milliseconds) while scheduled; -1 otherwise. */
  get at(): number {
    return this.bucket === undefined ? -1 : this.bucket.at
  }

  /** Called by the scheduler when due, outside any async context: enter your own. */
  abstract fire(): void
}

/** Entry classes whose layout keeps the async ids as tagged values (see `storeIdsAsSmis`). */
const smiIds = new WeakSet<object>()
/** Node's keys of an `AsyncResource`'s async id and trigger id, read off the first entry. */
let asyncIdKey: symbol | undefined
let triggerIdKey: symbol | undefined
/** Ids up to this stay small integers on every 64-bit V8 build. */
const MAX_INLINE_ID = 0x3fff_ffff
/** The class constructed last (checked before `smiIds`: entries come in runs of one class). */
let lastType: object | undefined

/**
 * `AsyncResource` stores its async id and trigger id as doubles, and V8 then keeps each in a
 * heap box of its own: 32 more bytes per entry, and a second, dependent cache miss whenever a
 * scattered entry wakes. Writing a non-number once to those two fields (and putting the number
 * back) makes V8 retype the fields of this object layout, shared by every later instance of the
 * class, to tagged values; each constructor then stores the ids as small integers, inline. The
 * values are unchanged; only the layout is.
 */
function storeIdsAsSmis(entry: SchedulerEntry, type: object): void {
  smiIds.add(type)
  const record = entry as unknown as Record<symbol, unknown>
  for (const key of Object.getOwnPropertySymbols(entry)) {
    const descriptor = Object.getOwnPropertyDescriptor(entry, key)
    if (typeof descriptor?.value !== 'number' || !descriptor.writable) continue
    if (descriptor.value === entry.asyncId()) asyncIdKey = key
    else if (descriptor.value === entry.triggerAsyncId()) triggerIdKey = key
    else continue
    record[key] = null
    record[key] = descriptor.value
  }
}

/** An entry that runs a callback in the async context it was created in. */
export class ScheduledEntry extends SchedulerEntry {
  readonly ref: boolean
  readonly #callback: (() => void) | undefined

  constructor(callback?: () => void, ref = true) {
    super()
    this.ref = ref
    this.#callback = callback
  }

  fire(): void {
    if (this.#callback !== undefined) this.runInAsyncScope(this.#callback)
  }
}

/**
 * Every entry due in the same millisecond shares one bucket, an array in insertion order (a
 * removed entry leaves a hole); the heap orders buckets, not entries. Buckets and their arrays
 * are recycled, so a steady round of pollers allocates nothing and writes no pointer from old
 * objects to young ones.
 */
interface Bucket {
  heapIndex: number
  at: number
  /** Entries by slot; `undefined` where one was removed. Only the first `size` are used. */
  entries: (SchedulerEntry | undefined)[]
  size: number
  /** Entries still in the bucket. */
  live: number
  /** Set once the bucket left the heap (to fire, or emptied): it takes no new entries. */
  closed: boolean
}

/** Free buckets kept for reuse (more distinct due times than this at once are rare). */
const BUCKET_POOL = 64

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
  readonly #free: Bucket[] = []
  /** Buckets collected by a wake-up (reused: a wake-up allocates nothing). */
  readonly #due: Bucket[] = []

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
  add(entry: SchedulerEntry, delay: number): void {
    if (entry.bucket !== undefined) this.#unlink(entry)
    // Rounded up to whole milliseconds (the timer resolution); the epsilon keeps 200 × 1.1 at 220.
    const at = Math.ceil(this.now() + Math.max(delay, 0) - 1e-7)
    let bucket = this.#last
    let first = false
    if (bucket === undefined || bucket.at !== at || bucket.closed) {
      bucket = this.#buckets.get(at)
      if (bucket === undefined) {
        bucket = this.#newBucket(at)
        this.#buckets.set(at, bucket)
        this.#heap.push(bucket)
        first = true
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
    const ref = entry.ref
    if (ref) this.#referenced++
    // Joining a bucket that already exists changes nothing for the timer, unless this entry is
    // the first referenced one or fake timers were swapped since the timer was armed.
    if (first || (ref && this.#referenced === 1) || this.#armedWith !== globalThis.setTimeout) {
      this.#arm()
    }
  }

  /** Removes `entry` if scheduled; returns whether it was. */
  remove(entry: SchedulerEntry): boolean {
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

  #newBucket(at: number): Bucket {
    const bucket = this.#free.pop()
    if (bucket === undefined) return { heapIndex: -1, at, entries: [], size: 0, live: 0, closed: false }
    bucket.at = at
    bucket.closed = false
    return bucket
  }

  /** Takes back an empty bucket (every slot `undefined`) that left the heap and the map. */
  #recycle(bucket: Bucket): void {
    bucket.size = 0
    bucket.live = 0
    if (this.#last === bucket) this.#last = undefined
    if (this.#free.length < BUCKET_POOL) this.#free.push(bucket)
  }

  /** Takes `entry` out of its bucket; an open bucket left empty leaves the heap for the pool. */
  #unlink(entry: SchedulerEntry): void {
    const bucket = entry.bucket!
    bucket.entries[entry.slot] = undefined
    entry.bucket = undefined
    entry.slot = -1
    this.#pending--
    if (entry.ref) this.#referenced--
    // A closed bucket is being fired: the wake-up recycles it when done.
    if (--bucket.live === 0 && !bucket.closed) {
      bucket.closed = true
      this.#heap.remove(bucket)
      this.#buckets.delete(bucket.at)
      this.#recycle(bucket)
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

  /** Fires a closed bucket's entries in slot order; a callback may remove any of the others. */
  #fireBucket(bucket: Bucket): number {
    const entries = bucket.entries
    let fired = 0
    for (let i = 0; i < bucket.size; i++) {
      const entry = entries[i]
      if (entry === undefined) continue
      // `#unlink` inlined by hand: calling it here cost 8 ns of the ~42 per check (in cache;
      // the engine does not inline it into this loop). A closed bucket needs no `live` count.
      entries[i] = undefined
      entry.bucket = undefined
      entry.slot = -1
      this.#pending--
      if (entry.ref) this.#referenced--
      fired++
      try {
        entry.fire()
      } catch (error) {
        queueMicrotask(() => {
          throw error
        })
      }
    }
    return fired
  }

  #wake(): void {
    this.#timer = undefined
    this.#timerAt = Number.POSITIVE_INFINITY
    this.#wakeups++
    const now = getClock().monotonic()
    // Collect first, then fire: an entry re-added while firing goes to an open bucket and waits
    // for the next wake-up, so a zero-delay reschedule can never spin inside one callback.
    const due = this.#due
    let several = false
    for (
      let top = this.#heap.peek();
      top !== undefined && top.at <= now + SLACK_MS;
      top = this.#heap.peek()
    ) {
      this.#heap.pop()
      this.#buckets.delete(top.at)
      top.closed = true
      if (due.length > 0 || top.live > 1) several = true
      due.push(top)
    }
    // Freezing the clock only matters when several entries could drift apart; a lone entry
    // leaves no pending immediate behind (which fake-timer tests would count).
    if (several) this.#freeze(now)
    let batch = 0
    for (let b = 0; b < due.length; b++) {
      const bucket = due[b]!
      batch += this.#fireBucket(bucket)
      this.#recycle(bucket)
    }
    due.length = 0
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
