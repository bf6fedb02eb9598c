import { getClock, type HeapItem, IndexedHeap, schedule, type TimerHandle } from '@hotpath/core'

/** One pending deadline; `fire` runs when it elapses unless it was removed first. */
export interface DeadlineEntry extends HeapItem {
  at: number
  fire(): void
}

/** A deadline that calls `fire` at `at` (monotonic ms). */
export class DeadlineCall implements DeadlineEntry {
  heapIndex = -1
  readonly at: number
  readonly fire: () => void

  constructor(at: number, fire: () => void) {
    this.at = at
    this.fire = fire
  }
}

const byTime = (a: DeadlineEntry, b: DeadlineEntry) => a.at < b.at

/**
 * Many deadlines on ONE timer: a min-heap of due times with a single timer armed for the earliest.
 * Removing an entry is O(log n) and never touches the timer; a timer that fires early re-arms.
 */
export class Deadlines {
  readonly #heap = new IndexedHeap<DeadlineEntry>(byTime)
  #timer: TimerHandle | undefined
  #armedAt = Number.POSITIVE_INFINITY
  readonly #onTimer = () => this.#fire()

  get size(): number {
    return this.#heap.size
  }

  add(entry: DeadlineEntry): void {
    this.#heap.push(entry)
    if (entry.at < this.#armedAt) this.#arm(entry.at)
  }

  remove(entry: DeadlineEntry): void {
    this.#heap.remove(entry)
    if (this.#heap.size === 0) this.#disarm()
  }

  #arm(at: number): void {
    this.#timer?.cancel()
    this.#armedAt = at
    this.#timer = schedule(this.#onTimer, Math.max(0, at - getClock().monotonic()))
  }

  #disarm(): void {
    this.#timer?.cancel()
    this.#timer = undefined
    this.#armedAt = Number.POSITIVE_INFINITY
  }

  #fire(): void {
    this.#timer = undefined
    this.#armedAt = Number.POSITIVE_INFINITY
    // Timers may fire a fraction of a millisecond early relative to performance.now().
    const now = getClock().monotonic() + 1
    for (let top = this.#heap.peek(); top !== undefined && top.at <= now; top = this.#heap.peek()) {
      this.#heap.pop()
      top.fire()
    }
    const next = this.#heap.peek()
    if (next !== undefined && this.#timer === undefined) this.#arm(next.at)
  }
}
