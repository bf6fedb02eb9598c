import { Deque, eventChannel, getClock, getTimers } from '@hotpath/core'
import { Breaker, type BreakerState } from './breaker'
import { CacheL2TimeoutError, CacheL2UnavailableError } from './errors'
import type { CacheStore } from './store'

const breakerChannel = eventChannel<{ store: string; state: BreakerState }>('hotpath:cache:breaker')
const l2ErrorChannel = eventChannel<{ store: string; operation: string; error: unknown }>(
  'hotpath:cache:l2-error',
)

/** L2 counters kept by the tier. */
export interface L2Counters {
  hits: number
  misses: number
  errors: number
  timeouts: number
  skipped: number
}

interface PendingCall {
  deadline: number
  done: boolean
  operation: string
  reject: (error: Error) => void
}

/**
 * Every L2 call goes through here: skipped while the breaker is open or the store says it is not
 * ready, bounded by `l2Timeout`, and its outcome fed to the breaker.
 */
export class L2Tier {
  readonly store: CacheStore
  readonly timeout: number
  readonly breaker: Breaker
  readonly counters: L2Counters = { hits: 0, misses: 0, errors: 0, timeouts: 0, skipped: 0 }
  readonly #calls = new Deque<PendingCall>()
  #timer: unknown

  constructor(store: CacheStore, timeout: number, threshold: number, cooldown: number) {
    this.store = store
    this.timeout = timeout
    this.breaker = new Breaker(threshold, cooldown, (state) =>
      breakerChannel.publish({ store: store.kind, state }),
    )
  }

  /** Runs `call` against the store, or rejects at once when L2 is unavailable. */
  run<T>(operation: string, send: (store: CacheStore) => Promise<T>): Promise<T> {
    const store = this.store
    if (store.ready !== undefined && !store.ready()) {
      this.counters.skipped++
      return Promise.reject(new CacheL2UnavailableError(`${store.kind} is not connected`))
    }
    if (!this.breaker.allow()) {
      this.counters.skipped++
      return Promise.reject(new CacheL2UnavailableError('circuit breaker open'))
    }
    let promise: Promise<T>
    try {
      promise = send(store)
    } catch (error) {
      promise = Promise.reject(error)
    }
    return new Promise<T>((resolve, reject) => {
      const call: PendingCall = {
        deadline: getClock().monotonic() + this.timeout,
        done: false,
        operation,
        reject,
      }
      this.#calls.push(call)
      if (this.#timer === undefined) this.#arm(this.timeout)
      promise.then(
        (value) => {
          if (call.done) return
          call.done = true
          this.breaker.success()
          resolve(value)
        },
        (error: unknown) => {
          if (call.done) return
          call.done = true
          this.counters.errors++
          this.breaker.failure()
          l2ErrorChannel.publish({ store: store.kind, operation, error })
          reject(error)
        },
      )
    })
  }

  // Every call has the same timeout, so deadlines arrive in call order: one FIFO and one timer
  // armed for the oldest pending deadline replace a timer per call.
  #arm(delay: number): void {
    const handle = getTimers().setTimeout(() => this.#expire(), Math.max(1, Math.ceil(delay)))
    ;(handle as { unref?: () => void } | undefined)?.unref?.()
    this.#timer = handle
  }

  #expire(): void {
    this.#timer = undefined
    const now = getClock().monotonic()
    const calls = this.#calls
    for (let call = calls.peek(); call !== undefined; call = calls.peek()) {
      if (!call.done && call.deadline > now) break
      calls.shift()
      if (call.done) continue
      call.done = true
      this.counters.timeouts++
      this.counters.errors++
      this.breaker.failure()
      const error = new CacheL2TimeoutError(call.operation, this.timeout)
      l2ErrorChannel.publish({ store: this.store.kind, operation: call.operation, error })
      call.reject(error)
    }
    const head = calls.peek()
    if (head !== undefined) this.#arm(head.deadline - now)
  }
}
