import { abortReason, Deque, getClock, type HeapItem, IndexedHeap } from '@hotpath/core'
import type { DeadlineEntry, Deadlines } from './deadlines'

const QUEUED = 0
const SETTLED = 1

let capturedResolve: (value: unknown) => void
let capturedReject: (reason: unknown) => void
// One shared executor: creating a waiter's promise allocates no closure.
function capture(resolve: (value: unknown) => void, reject: (reason: unknown) => void): void {
  capturedResolve = resolve
  capturedReject = reject
}

class TimeoutEntry implements DeadlineEntry {
  heapIndex = -1
  readonly at: number
  readonly waiter: Waiter<unknown>

  constructor(waiter: Waiter<unknown>, at: number) {
    this.waiter = waiter
    this.at = at
  }

  fire(): void {
    const waiter = this.waiter
    waiter.queue.cancel(waiter, waiter.queue.timeoutError(waiter), 'timeout')
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

/** A pending wait. */
export class Waiter<T = void> implements HeapItem {
  heapIndex = -1
  readonly seq: number
  readonly priority: number
  readonly weight: number
  /** monotonic time of enqueue */
  readonly startedAt: number
  /** ms, 0 when the wait has no timeout */
  timeout = 0
  deadline: TimeoutEntry | undefined = undefined
  state = QUEUED
  readonly payload: unknown
  group: SignalGroup | undefined = undefined
  readonly resolve: (value: T) => void
  readonly reject: (reason: unknown) => void
  readonly queue: WaitQueue<T>

  constructor(
    queue: WaitQueue<T>,
    resolve: (value: T) => void,
    reject: (reason: unknown) => void,
    weight: number,
    priority: number,
    seq: number,
    startedAt: number,
    payload: unknown,
  ) {
    this.queue = queue
    this.resolve = resolve
    this.reject = reject
    this.weight = weight
    this.priority = priority
    this.seq = seq
    this.startedAt = startedAt
    this.payload = payload
  }
}

/** What a {@link WaitQueue}'s owner supplies. */
export interface WaitQueueHooks<T> {
  /** Builds the error a timed-out waiter rejects with. */
  timeoutError(waiter: Waiter<T>): Error
  /** Called after a waiter left by abort or timeout (the owner may now grant others). */
  onCancel(waiter: Waiter<T>, reason: 'abort' | 'timeout'): void
}

/** Higher priority first; FIFO (sequence) within a priority. */
const byPriority = (a: Waiter<unknown>, b: Waiter<unknown>) =>
  a.priority > b.priority || (a.priority === b.priority && a.seq < b.seq)

/**
 * The queue behind every waiting primitive: FIFO on core's O(1) Deque while nobody uses a
 * priority, core's IndexedHeap (O(log n), FIFO tiebreak) once someone does. Aborted and
 * timed-out waiters leave at once: removed from the heap, or tombstoned in the deque (their
 * callbacks dropped, the deque compacted when tombstones outnumber live waiters).
 */
export class WaitQueue<T = void> {
  #fifo = new Deque<Waiter<T>>()
  #heap: IndexedHeap<Waiter<T>> | undefined
  #usingHeap = false
  #size = 0
  #tombstones = 0
  #seq = 0
  #groups: Map<AbortSignal, SignalGroup> | undefined
  readonly #hooks: WaitQueueHooks<T>
  readonly #deadlines: Deadlines
  timedOut = 0
  aborted = 0

  constructor(hooks: WaitQueueHooks<T>, deadlines: Deadlines) {
    this.#hooks = hooks
    this.#deadlines = deadlines
  }

  /** Number of live waiters. */
  get size(): number {
    return this.#size
  }

  timeoutError(waiter: Waiter<T>): Error {
    return this.#hooks.timeoutError(waiter)
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
    const promise = new Promise<T>(capture as (resolve: (value: T) => void) => void)
    const waiter = new Waiter<T>(
      this,
      capturedResolve as (value: T) => void,
      capturedReject,
      weight,
      priority,
      this.#seq++,
      getClock().monotonic(),
      payload,
    )
    if (priority !== 0 && !this.#usingHeap) this.#switchToHeap()
    if (this.#usingHeap) this.#heap!.push(waiter)
    else this.#fifo.push(waiter)
    this.#size++
    if (signal !== undefined) {
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
    if (timeout !== Number.POSITIVE_INFINITY) {
      waiter.timeout = timeout
      waiter.deadline = new TimeoutEntry(waiter as unknown as Waiter<unknown>, waiter.startedAt + timeout)
      this.#deadlines.add(waiter.deadline)
    }
    return promise
  }

  /** The first live waiter, without removing it. */
  peek(): Waiter<T> | undefined {
    if (this.#size === 0) return undefined
    if (this.#usingHeap) return this.#heap!.peek()
    let head = this.#fifo.peek()
    while (head !== undefined && head.state !== QUEUED) {
      this.#fifo.shift()
      this.#tombstones--
      head = this.#fifo.peek()
    }
    return head
  }

  /** Removes the first live waiter (detached: no listener, no deadline). Call after peek(). */
  shift(): Waiter<T> | undefined {
    let waiter: Waiter<T> | undefined
    if (this.#usingHeap) waiter = this.#heap!.pop()
    else {
      waiter = this.peek()
      if (waiter !== undefined) this.#fifo.shift()
    }
    if (waiter === undefined) return undefined
    this.#settle(waiter)
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
      if (waiter.state !== QUEUED) continue
      if (this.#usingHeap) this.#heap!.remove(waiter)
      else this.#tombstones++
      this.#settle(waiter)
      removed.push(waiter)
    }
    group.waiters.clear()
    this.aborted += removed.length
    for (const waiter of removed) waiter.reject(abortReason(group.signal))
    const last = removed.at(-1)
    if (last !== undefined) this.#hooks.onCancel(last, 'abort')
  }

  /** Removes `waiter` if it still waits and rejects it with `error`. */
  cancel(waiter: Waiter<T>, error: unknown, reason: 'abort' | 'timeout' | 'clear'): boolean {
    if (waiter.state !== QUEUED) return false
    if (this.#usingHeap) this.#heap!.remove(waiter)
    else this.#tombstones++
    this.#settle(waiter)
    waiter.reject(error)
    if (reason === 'abort') this.aborted++
    else if (reason === 'timeout') this.timedOut++
    if (reason !== 'clear') this.#hooks.onCancel(waiter, reason)
    return true
  }

  /** Rejects every waiter with `makeError()`; returns how many there were. */
  clear(makeError: () => Error): number {
    const all: Waiter<T>[] = []
    if (this.#usingHeap) for (const w of this.#heap!.drain()) all.push(w)
    else for (const w of this.#fifo.drain()) if (w.state === QUEUED) all.push(w)
    this.#tombstones = 0
    this.#size = 0
    this.#usingHeap = false
    for (const waiter of all) {
      this.#detach(waiter)
      waiter.reject(makeError())
    }
    return all.length
  }

  /** Live waiters in queue order (for draining into another structure). */
  toArray(): Waiter<T>[] {
    const out: Waiter<T>[] = []
    if (this.#usingHeap) {
      out.push(...this.#heap!.drain())
      for (const w of out) this.#heap!.push(w)
    } else for (const w of this.#fifo) if (w.state === QUEUED) out.push(w)
    return out
  }

  #detach(waiter: Waiter<T>): void {
    waiter.state = SETTLED
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
      this.#deadlines.remove(waiter.deadline)
      waiter.deadline = undefined
    }
  }

  #settle(waiter: Waiter<T>): void {
    this.#detach(waiter)
    this.#size--
    if (this.#size === 0) {
      if (this.#usingHeap) this.#usingHeap = false
      else if (this.#tombstones > 0) {
        this.#fifo.clear()
        this.#tombstones = 0
      }
    } else if (!this.#usingHeap && this.#tombstones > 64 && this.#tombstones > this.#size) this.#compact()
  }

  #compact(): void {
    const live = new Deque<Waiter<T>>(this.#size)
    for (let w = this.#fifo.shift(); w !== undefined; w = this.#fifo.shift())
      if (w.state === QUEUED) live.push(w)
    this.#fifo = live
    this.#tombstones = 0
  }

  #switchToHeap(): void {
    this.#heap ??= new IndexedHeap<Waiter<T>>(
      byPriority as unknown as (a: Waiter<T>, b: Waiter<T>) => boolean,
    )
    for (let w = this.#fifo.shift(); w !== undefined; w = this.#fifo.shift())
      if (w.state === QUEUED) this.#heap.push(w)
    this.#tombstones = 0
    this.#usingHeap = true
  }
}
