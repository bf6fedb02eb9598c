import { schedule } from '@hotpath/core'
import { PoolClosedError } from './errors'
import { CLOSED, type PoolState, retire } from './pool-state'

/** @internal Resolves true once nothing is borrowed or waiting, false after `timeout` ms or on close. */
export function waitUntilQuiet<T>(s: PoolState<T>, timeout: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const settle = (done: boolean) => {
      timer.cancel()
      s.settled.delete(settle)
      resolve(done)
    }
    const timer = schedule(() => settle(false), timeout)
    s.settled.add(settle)
  })
}

/**
 * @internal Closes the pool: settles waiters, aborts creates, destroys idle resources, then waits
 * for the creates and destroys in flight (each at most its timeout), so that every resource the
 * pool created is destroyed when it resolves, except leases still out.
 */
export async function shutdown<T>(s: PoolState<T>): Promise<void> {
  if (s.state !== CLOSED) {
    s.state = CLOSED
    s.timer?.cancel()
    s.timer = undefined
    s.timerAt = Number.POSITIVE_INFINITY
    const closed = new PoolClosedError(s.o.name)
    for (const work of s.work) {
      work.controller?.abort(closed)
      work.hold()
    }
    for (const settle of [...s.settled]) settle(false)
    for (const waiter of s.waiters.drain()) waiter.reject(new PoolClosedError(s.o.name))
    for (const entry of s.initWaiters) entry.reject(new PoolClosedError(s.o.name))
    s.initWaiters.clear()
    for (const slot of s.idle.drain()) retire(s, slot, 'close')
  }
  while (s.work.size > 0) await Promise.all(Array.from(s.work, (work) => work.done))
}
