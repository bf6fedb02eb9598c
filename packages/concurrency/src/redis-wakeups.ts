import { abortReason, onAbort, schedule } from '@hotpath/core'

// biome-ignore lint/suspicious/noExplicitAny: event listeners of EventEmitter-based clients take any arguments
type Listener = (...args: any[]) => void

/**
 * What the semaphore needs of a subscriber connection: an ioredis client's `duplicate()`.
 *
 * @example
 * const subscriber: RedisWakeSubscriber = redis.duplicate()
 * await subscriber.subscribe('hp:sem:{jobs}:released')
 */
export interface RedisWakeSubscriber {
  readonly status?: string
  subscribe(channel: string): Promise<unknown>
  on(event: string, listener: Listener): unknown
  disconnect(): void
}

const noop = () => {}

/**
 * Wakes the waiters of one semaphore when a permit is released anywhere: releases PUBLISH on
 * `channel`, and each message wakes the longest-waiting local waiter at once instead of at its
 * next poll. The subscriber connection exists only while someone waits (an idle semaphore keeps
 * no socket, so it never keeps the process alive); until it is subscribed, and for leases that
 * simply expire, the poll still finds the permit.
 */
export class Wakeups {
  readonly #duplicate: (() => RedisWakeSubscriber) | undefined
  readonly #channel: string
  readonly #sleepers = new Set<() => void>()
  #subscriber: RedisWakeSubscriber | undefined
  #holders = 0
  /** Messages seen so far: a waiter that saw one arrive since its last attempt tries again at once. */
  generation = 0

  constructor(duplicate: (() => RedisWakeSubscriber) | undefined, channel: string) {
    this.#duplicate = duplicate
    this.#channel = channel
  }

  /** Keeps the subscription while an acquire waits; call the returned function when it ends. */
  hold(): () => void {
    if (this.#duplicate === undefined) return noop
    if (this.#holders++ === 0) this.#open()
    let held = true
    return () => {
      if (!held) return
      held = false
      if (--this.#holders === 0) this.#close()
    }
  }

  /** Sleeps `ms`, or less when a release is announced; rejects when `signal` aborts. */
  sleep(ms: number, signal: AbortSignal | undefined, seen: number): Promise<void> {
    if (signal?.aborted) return Promise.reject(abortReason(signal))
    if (this.generation !== seen) return Promise.resolve()
    return new Promise<void>((resolve, reject) => {
      const finish = (error?: unknown) => {
        timer.cancel()
        off()
        this.#sleepers.delete(wake)
        if (error === undefined) resolve()
        else reject(error)
      }
      const wake = () => finish()
      const timer = schedule(wake, ms)
      const off = onAbort(signal, () => finish(abortReason(signal!)))
      this.#sleepers.add(wake)
    })
  }

  #open(): void {
    let subscriber: RedisWakeSubscriber
    try {
      subscriber = this.#duplicate!()
    } catch {
      return
    }
    this.#subscriber = subscriber
    subscriber.on('error', noop)
    const subscribe = () => {
      subscriber.subscribe(this.#channel).catch(noop)
    }
    subscriber.on('message', (channel: string) => {
      if (channel !== this.#channel) return
      this.generation++
      // One release frees one permit: the longest sleeper tries; the others keep their poll.
      for (const wake of this.#sleepers) {
        wake()
        break
      }
    })
    if (subscriber.status === 'ready') subscribe()
    else subscriber.on('ready', subscribe)
  }

  #close(): void {
    const subscriber = this.#subscriber
    this.#subscriber = undefined
    subscriber?.disconnect()
  }
}
