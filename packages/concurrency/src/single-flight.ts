import { checkFunction } from '@hotpath/core'

/**
 * One in-flight call per key: callers that arrive while a call for the same key runs share its
 * result (or its error). Nothing is cached once the call settles, so errors are never kept.
 *
 * @example
 * const configs: SingleFlight<string, Config> = singleFlight()
 * const config = await configs.do('app', () => loadConfig()) // concurrent callers share one load
 */
export interface SingleFlight<K, V> {
  /**
   * Runs `fn` for `key`, or joins the call already running for it.
   *
   * @example
   * const user = await flight.do(`user:${id}`, () => db.users.find(id))
   */
  do(key: K, fn: () => PromiseLike<V> | V): Promise<V>
  /** True while a call for `key` runs. */
  has(key: K): boolean
  /** Number of keys with a call in flight. */
  readonly size: number
  /**
   * Detaches `key`: the running call goes on for those who joined it, but the next caller starts
   * a new one (use after an invalidation so nobody joins a call that read stale data).
   */
  forget(key: K): boolean
}

/**
 * Creates a {@link SingleFlight} group.
 *
 * @example
 * const flight = singleFlight<string, Profile>()
 * // 1,000 concurrent callers → one fetch
 * await Promise.all(ids.map(() => flight.do('me', () => fetchProfile())))
 */
export function singleFlight<K = string, V = unknown>(): SingleFlight<K, V> {
  const calls = new Map<K, Promise<V>>()
  return {
    do(key, fn) {
      checkFunction('fn', fn)
      const running = calls.get(key)
      if (running) return running
      let call: Promise<V>
      try {
        call = Promise.resolve(fn())
      } catch (error) {
        return Promise.reject(error)
      }
      const tracked = call.finally(() => {
        if (calls.get(key) === tracked) calls.delete(key)
      })
      calls.set(key, tracked)
      return tracked
    },
    has: (key) => calls.has(key),
    get size() {
      return calls.size
    },
    forget: (key) => calls.delete(key),
  }
}
