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

/** @internal Closes the pool: settles waiters, aborts creates, destroys idle resources and awaits destroys. */
export async function shutdown<T>(s: PoolState<T>): Promise<void> {
  if (s.state !== CLOSED) {
    s.state = CLOSED
    s.timer?.cancel()
    s.timer = undefined
    s.timerAt = Number.POSITIVE_INFINITY
    const closed = new PoolClosedError(s.o.name)
    for (const controller of s.createControllers) controller.abort(closed)
    s.createControllers.clear()
    for (const settle of [...s.settled]) settle(false)
    for (const waiter of s.waiters.drain()) waiter.reject(new PoolClosedError(s.o.name))
    for (const entry of s.initWaiters) entry.reject(new PoolClosedError(s.o.name))
    s.initWaiters.clear()
    for (const slot of s.idle.drain()) retire(s, slot, 'close')
  }
  while (s.pendingDestroys.size > 0) await Promise.all(s.pendingDestroys)
}
