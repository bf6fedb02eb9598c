import { schedule } from '@hotpath/core'

/** What {@link raceTimeout} resolves to when time runs out first. */
export const TIMED_OUT: unique symbol = Symbol('timed out')

/**
 * Settles like `promise`, or resolves to {@link TIMED_OUT} after `ms` (the promise keeps running).
 * The timer is cleared when the promise settles first.
 */
export function raceTimeout<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  if (ms === Number.POSITIVE_INFINITY) return promise
  return new Promise((resolve, reject) => {
    const timer = schedule(() => resolve(TIMED_OUT), ms)
    promise.then(
      (value) => {
        timer.cancel()
        resolve(value)
      },
      (error: unknown) => {
        timer.cancel()
        reject(error)
      },
    )
  })
}
