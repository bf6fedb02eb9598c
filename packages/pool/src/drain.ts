import { getTimerService, Timeout } from '@hotpath/core'
import { PoolClosedError } from './errors'
import { CLOSED, type PoolBase } from './pool-base'

/** @internal Resolves true once nothing is borrowed or waiting, false after `timeout` ms or on close. */
export function waitUntilQuiet<T>(s: PoolBase<T>, timeout: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const settle = (done: boolean) => {
      getTimerService().remove(timer)
      s.quietListeners.delete(settle)
      resolve(done)
    }
    const timer = new Timeout(() => settle(false))
    getTimerService().add(timer, timeout)
    s.quietListeners.add(settle)
  })
}

/**
 * @internal Closes the pool: settles waiters, aborts creates, destroys idle resources, then waits
 * for the creates and destroys in flight (each at most its timeout), so that every resource the
 * pool created is destroyed when it resolves, except leases still out.
 */
export async function shutdown<T>(s: PoolBase<T>): Promise<void> {
  if (s.status !== CLOSED) {
    s.status = CLOSED
    s.cancelTimers()
    const closed = new PoolClosedError(s.options.name)
    for (const work of s.inFlight) {
      work.controller?.abort(closed)
      work.hold()
    }
    for (const settle of [...s.quietListeners]) settle(false)
    for (const waiter of s.waiters.drain()) waiter.reject(new PoolClosedError(s.options.name))
    for (const entry of s.initWaiters) entry.reject(new PoolClosedError(s.options.name))
    s.initWaiters.clear()
    for (const slot of s.idle.drain()) s.retire(slot, 'close')
  }
  while (s.inFlight.size > 0) await Promise.all(Array.from(s.inFlight, (work) => work.done))
}
