import { eventChannel, getTimers } from '@hotpath/core'
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

/**
 * Every L2 call goes through here: skipped while the breaker is open or the store says it is not
 * ready, bounded by `l2Timeout`, and its outcome fed to the breaker.
 */
export class L2Tier {
  readonly store: CacheStore
  readonly timeout: number
  readonly breaker: Breaker
  readonly counters: L2Counters = { hits: 0, misses: 0, errors: 0, timeouts: 0, skipped: 0 }

  constructor(store: CacheStore, timeout: number, threshold: number, cooldown: number) {
    this.store = store
    this.timeout = timeout
    this.breaker = new Breaker(threshold, cooldown, (state) =>
      breakerChannel.publish({ store: store.kind, state }),
    )
  }

  /** Runs `call` against the store, or rejects at once when L2 is unavailable. */
  run<T>(operation: string, call: (store: CacheStore) => Promise<T>): Promise<T> {
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
      promise = call(store)
    } catch (error) {
      promise = Promise.reject(error)
    }
    return new Promise<T>((resolve, reject) => {
      let done = false
      const timers = getTimers()
      const handle = timers.setTimeout(() => {
        if (done) return
        done = true
        this.counters.timeouts++
        this.counters.errors++
        this.breaker.failure()
        const error = new CacheL2TimeoutError(operation, this.timeout)
        l2ErrorChannel.publish({ store: store.kind, operation, error })
        reject(error)
      }, this.timeout)
      promise.then(
        (value) => {
          if (done) return
          done = true
          timers.clearTimeout(handle)
          this.breaker.success()
          resolve(value)
        },
        (error: unknown) => {
          if (done) return
          done = true
          timers.clearTimeout(handle)
          this.counters.errors++
          this.breaker.failure()
          l2ErrorChannel.publish({ store: store.kind, operation, error })
          reject(error)
        },
      )
    })
  }
}
