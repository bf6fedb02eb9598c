import type { CacheStore } from './store'

/** What the batch needs of a read: its key (a full store key). */
export interface BatchedRead {
  readonly key: string
}

/** Receives the value of one read (`failed` false) or the error of its round trip. */
export type ReadAnswer<R> = (read: R, failed: boolean, result: unknown) => void

/** Keys per `getMany` call: bounds how long one read holds the backend and how big its reply is. */
const MAX_KEYS = 512

/**
 * Coalesces single-key L2 reads: every read issued in the same tick goes to the store as one
 * `getMany` (one MGET on Redis), each read answered with its own value or the shared error.
 *
 * The flush is a microtask, not a timer: it runs as soon as the code that issued the reads
 * yields, before any I/O, so a lone read is sent in the tick it was made (as `get`, not as a
 * one-key `getMany`) and waits for nothing. Timeouts, the breaker and decoding stay per caller:
 * they live around this (in the tier and the core), and a caller that gave up ignores its value.
 * The reads themselves are the queue's entries and one `answer` function serves them all, so a
 * read costs the batch no allocation of its own.
 */
export class L2Batch<R extends BatchedRead> {
  readonly #store: CacheStore
  readonly #answer: ReadAnswer<R>
  #queue: R[] = []

  constructor(store: CacheStore, answer: ReadAnswer<R>) {
    this.#store = store
    this.#answer = answer
  }

  /** Reads `read.key` with the other reads of this tick; `answer` gets the outcome. */
  add(read: R): void {
    if (this.#queue.push(read) === 1) queueMicrotask(this.#flush)
  }

  readonly #flush = (): void => {
    const queue = this.#queue
    this.#queue = []
    const answer = this.#answer
    if (queue.length === 1) {
      const read = queue[0]!
      this.#send(() => this.#store.get(read.key)).then(
        (value) => answer(read, false, value),
        (error: unknown) => answer(read, true, error),
      )
      return
    }
    // A key read twice in one tick is asked for once; both reads get the same value.
    const slots = new Map<string, number>()
    const keys: string[] = []
    const slotOf: number[] = []
    for (const read of queue) {
      let slot = slots.get(read.key)
      if (slot === undefined) {
        slot = keys.length
        slots.set(read.key, slot)
        keys.push(read.key)
      }
      slotOf.push(slot)
    }
    for (let first = 0; first < keys.length; first += MAX_KEYS) {
      const part = keys.length <= MAX_KEYS ? keys : keys.slice(first, first + MAX_KEYS)
      const last = first + part.length
      const settle = (failed: boolean, values: unknown) => {
        for (let i = 0; i < queue.length; i++) {
          const slot = slotOf[i]!
          if (slot < first || slot >= last) continue
          if (failed) answer(queue[i]!, true, values)
          else answer(queue[i]!, false, part.length === 1 ? values : (values as unknown[])[slot - first])
        }
      }
      const read =
        part.length === 1
          ? this.#send(() => this.#store.get(part[0]!))
          : this.#send(() => this.#store.getMany(part))
      read.then(
        (values) => settle(false, values),
        (error: unknown) => settle(true, error),
      )
    }
  }

  /** Calls the store, turning a synchronous throw into a rejection. */
  #send<T>(call: () => Promise<T>): Promise<T> {
    try {
      return call()
    } catch (error) {
      return Promise.reject(error)
    }
  }
}
