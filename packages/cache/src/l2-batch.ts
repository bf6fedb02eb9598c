import type { CacheStore, StoredValue } from './store'

type Read = StoredValue | null | undefined

/** Receives the value of one read (`failed` false) or the error of its round trip. */
export type ReadDone = (failed: boolean, result: unknown) => void

interface Waiter {
  key: string
  done: ReadDone
}

/** Keys per `getMany` call: bounds how long one read holds the backend and how big its reply is. */
const MAX_KEYS = 512

/**
 * Coalesces single-key L2 reads: every read issued in the same tick goes to the store as one
 * `getMany` (one MGET on Redis), each caller receiving its own value or the shared error.
 *
 * The flush is a microtask, not a timer: it runs as soon as the code that issued the reads
 * yields, before any I/O, so a lone read is sent in the tick it was made (as `get`, not as a
 * one-key `getMany`) and waits for nothing. Timeouts, the breaker and decoding stay per caller:
 * they live around this (in the tier and the core), and a caller that gave up ignores its value.
 */
export class L2Batch {
  readonly #store: CacheStore
  #queue: Waiter[] = []

  constructor(store: CacheStore) {
    this.#store = store
  }

  /** Reads `key` (a full store key) with the other reads of this tick. */
  add(key: string, done: ReadDone): void {
    if (this.#queue.push({ key, done }) === 1) queueMicrotask(this.#flush)
  }

  /** {@link add} as a promise. */
  get(key: string): Promise<Read> {
    return new Promise<Read>((resolve, reject) =>
      this.add(key, (failed, result) => (failed ? reject(result) : resolve(result as Read))),
    )
  }

  readonly #flush = (): void => {
    const queue = this.#queue
    this.#queue = []
    if (queue.length === 1) {
      const waiter = queue[0]!
      this.#send(() => this.#store.get(waiter.key)).then(
        (value) => waiter.done(false, value),
        (error: unknown) => waiter.done(true, error),
      )
      return
    }
    // A key read twice in one tick is asked for once; both callers get the same value.
    const slots = new Map<string, number>()
    const keys: string[] = []
    for (const waiter of queue) {
      if (!slots.has(waiter.key)) {
        slots.set(waiter.key, keys.length)
        keys.push(waiter.key)
      }
    }
    for (let first = 0; first < keys.length; first += MAX_KEYS) {
      const part = keys.length <= MAX_KEYS ? keys : keys.slice(first, first + MAX_KEYS)
      const last = first + part.length
      const answer = (failed: boolean, values: unknown) => {
        for (const waiter of queue) {
          const slot = slots.get(waiter.key)!
          if (slot < first || slot >= last) continue
          if (failed) waiter.done(true, values)
          else waiter.done(false, part.length === 1 ? values : (values as Read[])[slot - first])
        }
      }
      const read =
        part.length === 1
          ? this.#send(() => this.#store.get(part[0]!))
          : this.#send(() => this.#store.getMany(part))
      read.then(
        (values) => answer(false, values),
        (error: unknown) => answer(true, error),
      )
    }
  }

  /** Calls the store, turning a synchronous throw into a rejection. */
  #send<R>(call: () => Promise<R>): Promise<R> {
    try {
      return call()
    } catch (error) {
      return Promise.reject(error)
    }
  }
}
