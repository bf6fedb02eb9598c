import { abortReason, getClock, getTimerService, TimerEntry } from '@hotpath/core'
import { rejectThrough } from '@hotpath/core/internal'
import { type Bucket, type BucketItem, PriorityBuckets } from './priority-buckets'
import { RunBatch } from './run-batch'

/** The async resource type of a wait's timeout (it keeps the process alive: a caller waits). */
const TIMEOUT_ENTRY = { name: 'hotpath:concurrency:timeout' }

/** The timeout of one wait, on core's shared timer service. */
class TimeoutEntry extends TimerEntry {
  /** The wait's timeout in ms. */
  readonly timeout: number
  readonly waiter: Waiter<unknown>
  readonly queue: WaitQueue<unknown>

  constructor(queue: WaitQueue<unknown>, waiter: Waiter<unknown>, timeout: number) {
    super(TIMEOUT_ENTRY)
    this.queue = queue
    this.waiter = waiter
    this.timeout = timeout
  }

  fire(): void {
    this.queue.cancel(this.waiter, this.queue.timeoutError(this.timeout), 'timeout')
  }
}

/**
 * The waiters of one queue sharing one signal, behind ONE abort listener: adding a listener to an
 * EventTarget scans its listeners, so one listener per waiter would make 10,000 waits on a shared
 * request signal cost O(n²).
 */
class SignalGroup {
  readonly waiters = new Set<Waiter<unknown>>()
  readonly signal: AbortSignal
  readonly queue: WaitQueue<unknown>

  constructor(queue: WaitQueue<unknown>, signal: AbortSignal) {
    this.queue = queue
    this.signal = signal
  }

  /** abort listener */
  handleEvent(): void {
    this.queue.abortGroup(this)
  }
}

/** A pending wait with a promise of its own; `bucket` is undefined once it has left the queue. */
export class Waiter<T = void> implements BucketItem {
  bucket: Bucket<BucketItem> | undefined = undefined
  readonly weight: number
  /** monotonic time of enqueue */
  readonly startedAt: number
  readonly payload: unknown
  readonly resolve: (value: T) => void
  deadline: TimeoutEntry | undefined = undefined
  group: SignalGroup | undefined = undefined

  constructor(resolve: (value: T) => void, weight: number, startedAt: number, payload: unknown) {
    this.resolve = resolve
    this.weight = weight
    this.startedAt = startedAt
    this.payload = payload
  }
}

/** What a {@link WaitQueue}'s owner supplies. */
export interface WaitQueueHooks<T> {
  /** Builds the error a waiter whose `timeout` (ms) elapsed rejects with. */
  timeoutError(timeout: number): Error
  /** Called after a waiter left by abort or timeout (the owner may now grant others). */
  onCancel(waiter: Waiter<T>, reason: 'abort' | 'timeout'): void
  /** What `grantFront` resolves a waiter with (`enqueue` waiters only). */
  grantValue?(waiter: Waiter<T>): T
}

type Entry<T> = Waiter<T> | RunBatch

/**
 * The queue behind every waiting primitive: higher priority first, FIFO within a priority, on
 * {@link PriorityBuckets} (O(1) with one priority, O(log n) at worst). A waiter with a signal or
 * a timeout has a promise of its own and leaves at once when cancelled; tasks queued by
 * `enqueueRun` without either share batches ({@link RunBatch}).
 */
export class WaitQueue<T = void> {
  readonly #entries = new PriorityBuckets<Entry<T>>()
  #size = 0
  #groups: Map<AbortSignal, SignalGroup> | undefined
  readonly #hooks: WaitQueueHooks<T>
  timedOut = 0
  aborted = 0

  constructor(hooks: WaitQueueHooks<T>) {
    this.#hooks = hooks
  }

  /** Number of waiters (tasks of batches included). */
  get size(): number {
    return this.#size
  }

  timeoutError(timeout: number): Error {
    return this.#hooks.timeoutError(timeout)
  }

  /**
   * Enqueues a waiter. `timeout` is in ms (Infinity for none); the signal must not be aborted
   * (the caller checks first).
   */
  enqueue(
    weight: number,
    priority: number,
    signal: AbortSignal | undefined,
    timeout: number,
    payload?: unknown,
  ): Promise<T> {
    // The waiter keeps only `resolve`: it is rejected through it (`rejectThrough`).
    let resolve!: (value: T) => void
    const promise = new Promise<T>((settle) => {
      resolve = settle
    })
    const waiter = new Waiter<T>(resolve, weight, getClock().monotonic(), payload)
    this.#entries.push(waiter, priority)
    this.#size++
    if (signal !== undefined) this.#listen(waiter, signal)
    if (timeout !== Number.POSITIVE_INFINITY) {
      waiter.deadline = new TimeoutEntry(
        this as WaitQueue<unknown>,
        waiter as unknown as Waiter<unknown>,
        timeout,
      )
      getTimerService().addAt(waiter.deadline, waiter.startedAt + timeout)
    }
    return promise
  }

  /**
   * Enqueues a task that can be neither aborted nor timed out behind others of its priority, and
   * returns `batch.gate.then(continuation)`: the continuation runs, in the caller's async context,
   * once the gate opens (see {@link RunBatch}). Returns undefined, enqueuing nothing, when no
   * other waiter has this priority: a batch costs more than a lone waiter, so the task should
   * wait on its own (`enqueue`); it starts a batch for those that follow.
   */
  enqueueRun<R>(
    task: unknown,
    weight: number,
    priority: number,
    continuation: (batch: RunBatch) => R | PromiseLike<R>,
  ): Promise<R> | undefined {
    const last = this.#entries.last(priority)
    if (last === undefined) return undefined
    let batch: RunBatch
    if (last instanceof RunBatch && last.joinable) batch = last
    else {
      batch = new RunBatch()
      this.#entries.push(batch, priority)
    }
    batch.add(task, weight, getClock().monotonic())
    this.#size++
    return batch.gate.then(continuation)
  }

  /** Weight of the first waiter; 0 when the queue is empty. */
  frontWeight(): number {
    const front = this.#entries.peek()
    if (front === undefined) return 0
    return front instanceof RunBatch ? front.weights[front.granted]! : front.weight
  }

  /** Grants the first waiter (the queue must not be empty); returns its enqueue time. */
  grantFront(): number {
    const front = this.#entries.peek()!
    if (front instanceof RunBatch) {
      this.#size--
      const startedAt = front.grantNext()
      if (front.granted === front.size) this.#entries.shift()
      return startedAt
    }
    this.shift()
    front.resolve(this.#hooks.grantValue!(front))
    return front.startedAt
  }

  /**
   * Removes the first waiter (detached: no listener, no deadline). Only when the first entry is
   * not a batch: for queues without `enqueueRun`, and for `grantFront`.
   */
  shift(): Waiter<T> | undefined {
    const waiter = this.#entries.shift() as Waiter<T> | undefined
    if (waiter === undefined) return undefined
    this.#size--
    if (waiter.group !== undefined || waiter.deadline !== undefined) this.#detach(waiter)
    return waiter
  }

  /**
   * Rejects every waiter of `group` with the signal's reason (the listener is already gone). All
   * leave the queue before the owner hears of it, so none of them can be granted midway.
   */
  abortGroup(group: SignalGroup): void {
    this.#groups?.delete(group.signal)
    const removed: Waiter<T>[] = []
    for (const member of group.waiters) {
      const waiter = member as unknown as Waiter<T>
      waiter.group = undefined
      if (!this.#entries.remove(waiter)) continue
      this.#size--
      this.#detach(waiter)
      removed.push(waiter)
    }
    group.waiters.clear()
    this.aborted += removed.length
    for (const waiter of removed) rejectThrough(waiter.resolve, abortReason(group.signal))
    const last = removed.at(-1)
    if (last !== undefined) this.#hooks.onCancel(last, 'abort')
  }

  /** Removes `waiter` if it still waits and rejects it with `error`. */
  cancel(waiter: Waiter<T>, error: unknown, reason: 'abort' | 'timeout' | 'clear'): boolean {
    if (!this.#entries.remove(waiter)) return false
    this.#size--
    this.#detach(waiter)
    rejectThrough(waiter.resolve, error)
    if (reason === 'abort') this.aborted++
    else if (reason === 'timeout') this.timedOut++
    if (reason !== 'clear') this.#hooks.onCancel(waiter, reason)
    return true
  }

  /** Rejects every waiter with `makeError()`; returns how many there were. */
  clear(makeError: () => unknown): number {
    let count = 0
    for (const entry of this.#entries.drain()) {
      if (entry instanceof RunBatch) count += entry.fail(makeError)
      else {
        this.#detach(entry)
        rejectThrough(entry.resolve, makeError())
        count++
      }
    }
    this.#size = 0
    return count
  }

  #listen(waiter: Waiter<T>, signal: AbortSignal): void {
    this.#groups ??= new Map()
    let group = this.#groups.get(signal)
    if (group === undefined) {
      group = new SignalGroup(this as WaitQueue<unknown>, signal)
      this.#groups.set(signal, group)
      signal.addEventListener('abort', group, { once: true })
    }
    group.waiters.add(waiter as Waiter<unknown>)
    waiter.group = group
  }

  #detach(waiter: Waiter<T>): void {
    const group = waiter.group
    if (group !== undefined) {
      waiter.group = undefined
      group.waiters.delete(waiter as Waiter<unknown>)
      if (group.waiters.size === 0) {
        group.signal.removeEventListener('abort', group)
        this.#groups?.delete(group.signal)
      }
    }
    if (waiter.deadline !== undefined) {
      getTimerService().remove(waiter.deadline)
      waiter.deadline = undefined
    }
  }
}
