import { getTimerService, Timeout } from '@hotpath/core'

/** What {@link raceTimeout} resolves to when time runs out first. */
export const TIMED_OUT: unique symbol = Symbol('timed out')

const DEADLINE = { name: 'hotpath:cache:timeout' }

/**
 * Settles like `promise`, or resolves to {@link TIMED_OUT} after `ms` (the promise keeps running).
 * The deadline is a ref'd entry of the timer service: a caller awaits it, so it keeps the process
 * alive until the promise settles or time runs out, and it leaves the service when the promise
 * settles first.
 */
export function raceTimeout<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  if (ms === Number.POSITIVE_INFINITY) return promise
  return new Promise((resolve, reject) => {
    const timers = getTimerService()
    const deadline = new Timeout(() => resolve(TIMED_OUT), DEADLINE)
    timers.add(deadline, ms)
    promise.then(
      (value) => {
        timers.remove(deadline)
        resolve(value)
      },
      (error: unknown) => {
        timers.remove(deadline)
        reject(error)
      },
    )
  })
}
