import { eventChannel, getClock, getTimerService, Timeout } from '@hotpath/core'
import { Deque } from '@hotpath/core/internal'
import { Breaker, type BreakerState } from './breaker'
import { cacheChannels } from './channels'
import { CacheL2TimeoutError, CacheL2UnavailableError } from './errors'
import { L2Batch } from './l2-batch'
import type { CacheStore, StoredValue } from './store'

const breakerChannel = eventChannel<{ store: string; state: BreakerState }>(cacheChannels.breaker)
const l2ErrorChannel = eventChannel<{ store: string; operation: string; error: unknown }>(
  cacheChannels.l2Error,
)

/** L2 counters kept by the tier. */
export interface L2Counters {
  hits: number
  misses: number
  errors: number
  timeouts: number
  skipped: number
}

/** One call bounded by the tier; a `read` is also its own entry in the read batch. */
class PendingCall {
  done = false
  /** Stops waiting for the store to connect (the call's deadline passed). */
  release: (() => void) | undefined = undefined

  constructor(
    readonly operation: string,
    /** The store key of a `read`; '' for other calls. */
    readonly key: string,
    readonly deadline: number,
    /** The caller's promise: typed `never` as it takes whatever the store answered. */
    readonly resolve: (value: never) => void,
    readonly reject: (error: unknown) => void,
  ) {}
}

interface ReadyWaiter {
  resolve: () => void
  reject: (error: unknown) => void
}

/**
 * Every L2 call goes through here: skipped while the breaker is open, bounded by `l2Timeout`
 * (waiting for a connecting client included), and its outcome fed to the breaker.
 */
export class L2Tier {
  readonly store: CacheStore
  readonly timeout: number
  readonly breaker: Breaker
  /** Single-key reads of one tick, sent together. */
  readonly reads: L2Batch<PendingCall>
  readonly counters: L2Counters = { hits: 0, misses: 0, errors: 0, timeouts: 0, skipped: 0 }
  /** Called after every call L2 answered, so work kept for L2 can be sent again. */
  onAnswer: (() => void) | undefined
  readonly #calls = new Deque<PendingCall>()
  #unsettled = 0
  #closed = false
  /**
   * The oldest pending call's deadline on the timer service: ref'd while a call is unsettled, left
   * there unref'd when the last one settles (see `#settle`).
   */
  readonly #deadline = new Timeout(() => this.#expire(), { name: 'hotpath:cache:l2-timeout' })
  // Calls waiting for each pending `whenReady()` promise. The tier attaches one handler per
  // promise and a call leaves the set at its deadline: a handler per call would keep each call's
  // `send` and batch alive until the store connects, forever if it never does.
  readonly #readyWaiters = new WeakMap<Promise<void>, Set<ReadyWaiter>>()

  constructor(store: CacheStore, timeout: number, threshold: number, cooldown: number) {
    this.store = store
    this.timeout = timeout
    this.reads = new L2Batch<PendingCall>(store, (call, failed, result) => this.#answer(call, failed, result))
    this.breaker = new Breaker(threshold, cooldown, (state) => {
      if (breakerChannel.active) breakerChannel.publish({ store: store.kind, state })
    })
  }

  /** Runs `call` against the store, or rejects at once when L2 is unavailable. */
  run<T>(operation: string, send: (store: CacheStore) => Promise<T>): Promise<T> {
    const store = this.store
    const connecting = store.ready !== undefined && !store.ready()
    const skipped = this.#skip(connecting)
    if (skipped !== undefined) return Promise.reject(skipped)
    return new Promise<T>((resolve, reject) => {
      const call = this.#begin(operation, '', resolve, reject)
      let promise: Promise<T>
      try {
        // Connecting is not down: the call waits for the client within its own deadline, and is
        // not sent at all once that deadline has passed.
        promise = connecting
          ? this.#afterReady(store.whenReady!(), call).then(() =>
              call.done ? (undefined as T) : send(store),
            )
          : send(store)
      } catch (error) {
        promise = Promise.reject(error)
      }
      promise.then(
        (value) => this.#answer(call, false, value),
        (error: unknown) => this.#answer(call, true, error),
      )
    })
  }

  /**
   * Reads one key, as `run('get', ...)` does (same skip, deadline and breaker accounting per
   * caller), but sent with every other read of the same tick as one `getMany`.
   */
  read(key: string): Promise<StoredValue | null | undefined> {
    const store = this.store
    const connecting = store.ready !== undefined && !store.ready()
    const skipped = this.#skip(connecting)
    if (skipped !== undefined) return Promise.reject(skipped)
    return new Promise((resolve, reject) => {
      const call = this.#begin('get', key, resolve, reject)
      if (!connecting) this.reads.add(call)
      else
        this.#afterReady(store.whenReady!(), call).then(
          () => {
            if (!call.done) this.reads.add(call)
          },
          (error: unknown) => this.#answer(call, true, error),
        )
    })
  }

  /** Why a call is not sent at all, counted as skipped; undefined when it may go. */
  #skip(connecting: boolean): CacheL2UnavailableError | undefined {
    // A store that is not ready and cannot say when it will be is skipped, as a down one.
    if (connecting && this.store.whenReady === undefined) {
      this.counters.skipped++
      return new CacheL2UnavailableError(`${this.store.kind} is not connected`)
    }
    if (!this.breaker.allow()) {
      this.counters.skipped++
      return new CacheL2UnavailableError('circuit breaker open')
    }
    return undefined
  }

  #begin(
    operation: string,
    key: string,
    resolve: (value: never) => void,
    reject: (error: unknown) => void,
  ): PendingCall {
    const call = new PendingCall(operation, key, getClock().monotonic() + this.timeout, resolve, reject)
    this.#calls.push(call)
    if (this.#unsettled++ === 0) {
      this.#deadline.ref()
      // An entry left from an earlier call is due at that call's deadline, which is not later
      // than this one's: `#expire` moves it on from there.
      if (!this.#deadline.pending) this.#arm(this.timeout)
    }
    return call
  }

  /** Settles a call with the store's answer, unless it timed out first (its answer is dropped). */
  #answer(call: PendingCall, failed: boolean, result: unknown): void {
    if (call.done) return
    this.#settle(call)
    if (failed) {
      this.counters.errors++
      this.breaker.failure()
      if (l2ErrorChannel.active)
        l2ErrorChannel.publish({ store: this.store.kind, operation: call.operation, error: result })
      call.reject(result)
      return
    }
    this.breaker.success()
    call.resolve(result as never)
    this.onAnswer?.()
  }

  /**
   * Takes the deadline off the timer service once no call is left to bound; a call made after
   * this (a background write) puts it back until it settles.
   */
  close(): void {
    this.#closed = true
    if (this.#unsettled === 0) getTimerService().remove(this.#deadline)
  }

  #afterReady(ready: Promise<void>, call: PendingCall): Promise<void> {
    let waiters = this.#readyWaiters.get(ready)
    if (waiters === undefined) {
      const set = new Set<ReadyWaiter>()
      waiters = set
      this.#readyWaiters.set(ready, set)
      const wake = (error: unknown, failed: boolean) => {
        this.#readyWaiters.delete(ready)
        for (const waiter of set) {
          if (failed) waiter.reject(error)
          else waiter.resolve()
        }
        set.clear()
      }
      ready.then(
        () => wake(undefined, false),
        (error: unknown) => wake(error, true),
      )
    }
    const set = waiters
    return new Promise<void>((resolve, reject) => {
      const waiter: ReadyWaiter = { resolve, reject }
      set.add(waiter)
      call.release = () => set.delete(waiter)
    })
  }

  #settle(call: PendingCall): void {
    call.done = true
    if (--this.#unsettled > 0) return
    // With no call left to bound, every call in the FIFO is done. The deadline stays on the timer
    // service, unref'd so it keeps no idle process alive, and goes when it fires (one l2Timeout at
    // most): taking it off and putting it back for every call of a sequential caller would arm and
    // clear a Node timer per call.
    this.#calls.clear()
    if (this.#closed) getTimerService().remove(this.#deadline)
    else this.#deadline.unref()
  }

  // Every call has the same timeout, so deadlines arrive in call order: one FIFO and one entry
  // on the timer service, due at the oldest pending deadline, replace a timer per call. The entry
  // is ref'd (a caller waits) and takes any `l2Timeout`, even above 2^31-1 ms.
  #arm(delay: number): void {
    getTimerService().add(this.#deadline, Math.max(1, Math.ceil(delay)))
  }

  #expire(): void {
    const now = getClock().monotonic()
    const calls = this.#calls
    for (let call = calls.peek(); call !== undefined; call = calls.peek()) {
      if (!call.done && call.deadline > now) break
      calls.shift()
      if (call.done) continue
      this.#settle(call)
      call.release?.()
      call.release = undefined
      this.counters.timeouts++
      this.counters.errors++
      this.breaker.failure()
      const error = new CacheL2TimeoutError(call.operation, this.timeout)
      if (l2ErrorChannel.active)
        l2ErrorChannel.publish({ store: this.store.kind, operation: call.operation, error })
      call.reject(error)
    }
    const head = calls.peek()
    if (head !== undefined && !this.#deadline.pending) this.#arm(head.deadline - now)
  }
}
