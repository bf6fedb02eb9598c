import { type HeapItem, IndexedHeap } from '@hotpath/core/internal'
import type { Lease } from './lease'

/** @internal A queued acquire. */
export interface Waiter<T> extends HeapItem {
  priority: number
  seq: number
  deadline: number
  timeout: number
  enqueuedAt: number
  /** True while queued or being validated for; false once settled. */
  pending: boolean
  resolve: (lease: Lease<T>) => void
  reject: (error: unknown) => void
  signal: AbortSignal | undefined
  onAbort: (() => void) | undefined
  stack: string | undefined
  timer: DeadlineEntry<T>
}

/** @internal A waiter's entry in the deadline heap (a second heap position). */
interface DeadlineEntry<T> extends HeapItem {
  at: number
  waiter: Waiter<T>
}

function waiterBefore<T>(a: Waiter<T>, b: Waiter<T>): boolean {
  return a.priority > b.priority || (a.priority === b.priority && a.seq < b.seq)
}

function deadlineBefore<T>(a: DeadlineEntry<T>, b: DeadlineEntry<T>): boolean {
  return a.at < b.at
}

/** @internal What a new waiter is made of. */
export interface WaiterInit<T> {
  priority: number
  timeout: number
  now: number
  resolve: (lease: Lease<T>) => void
  reject: (error: unknown) => void
  signal: AbortSignal | undefined
  stack: string | undefined
}

/**
 * @internal The waiting acquires: a priority heap (higher priority, then arrival) for service
 * order and a second heap of deadlines for the pool's deadline entry. Every pending waiter is in the
 * deadline heap; one being validated for has left the service heap. Settling removes a waiter from
 * both in O(log n) and drops its abort listener. `onBusy` hears when the first waiter arrives
 * (`true`) and when the last one settles (`false`): a caller is awaiting the pool exactly then.
 */
export class WaiterQueue<T> {
  readonly #queue = new IndexedHeap<Waiter<T>>(waiterBefore)
  readonly #deadlines = new IndexedHeap<DeadlineEntry<T>>(deadlineBefore)
  readonly #onBusy: (busy: boolean) => void
  #seq = 0

  constructor(onBusy: (busy: boolean) => void) {
    this.#onBusy = onBusy
  }

  /** Waiters in the service queue. */
  get size(): number {
    return this.#queue.size
  }

  /** Queues a waiter; `onAbort` runs when its signal aborts. */
  add(init: WaiterInit<T>, onAbort: (waiter: Waiter<T>) => void): Waiter<T> {
    const waiter = {
      heapIndex: -1,
      priority: init.priority,
      seq: this.#seq++,
      deadline: init.now + init.timeout,
      timeout: init.timeout,
      enqueuedAt: init.now,
      pending: true,
      resolve: init.resolve,
      reject: init.reject,
      signal: init.signal,
      onAbort: undefined,
      stack: init.stack,
      timer: undefined,
    } as unknown as Waiter<T>
    waiter.timer = { heapIndex: -1, at: waiter.deadline, waiter }
    this.#queue.push(waiter)
    this.#deadlines.push(waiter.timer)
    if (this.#deadlines.size === 1) this.#onBusy(true)
    if (init.signal !== undefined) {
      waiter.onAbort = () => onAbort(waiter)
      init.signal.addEventListener('abort', waiter.onAbort, { once: true })
    }
    return waiter
  }

  /** Takes the next waiter to serve (it stays pending, with its deadline, until settled). */
  pop(): Waiter<T> | undefined {
    return this.#queue.pop()
  }

  /** Puts a popped, still pending waiter back (its validation failed). */
  requeue(waiter: Waiter<T>): void {
    if (waiter.pending && waiter.heapIndex < 0) this.#queue.push(waiter)
  }

  /** Removes a waiter everywhere and drops its abort listener. */
  settle(waiter: Waiter<T>): void {
    if (!waiter.pending) return
    waiter.pending = false
    this.#queue.remove(waiter)
    this.#deadlines.remove(waiter.timer)
    if (waiter.onAbort !== undefined) {
      ;(waiter.signal as AbortSignal).removeEventListener('abort', waiter.onAbort)
      waiter.onAbort = undefined
    }
    if (this.#deadlines.size === 0) this.#onBusy(false)
  }

  /** The earliest deadline of a pending waiter. */
  nextDeadline(): number | undefined {
    return this.#deadlines.peek()?.at
  }

  /** A pending waiter whose deadline is at or before `now`, if any. */
  expired(now: number): Waiter<T> | undefined {
    const entry = this.#deadlines.peek()
    return entry !== undefined && entry.at <= now ? entry.waiter : undefined
  }

  /** Settles and returns every pending waiter. */
  drain(): Waiter<T>[] {
    const all: Waiter<T>[] = []
    for (
      let waiter = this.#deadlines.peek()?.waiter;
      waiter !== undefined;
      waiter = this.#deadlines.peek()?.waiter
    ) {
      this.settle(waiter)
      all.push(waiter)
    }
    return all
  }
}
