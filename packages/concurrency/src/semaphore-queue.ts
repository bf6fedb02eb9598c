import { ClosedError, QueueFullError, SemaphoreClearedError, SemaphoreTimeoutError } from './errors'
import { readOptions } from './internal/options'
import { WaitQueue } from './internal/wait-queue'
import { Permit, type PermitSource } from './permit'
import { type ClearOptions, rejectChannel, timeoutChannel } from './semaphore-types'

/**
 * The waiter queue of `semaphore` (a {@link WaitQueue}: priority buckets, batches of plain `run()`
 * tasks, deadlines and signals), `name` being the semaphore's name for errors and channel
 * messages. A waiter whose wait timed out rejects with `E_SEMAPHORE_TIMEOUT`; a granted waiter
 * resolves with its task when it came from `run()`, with a {@link Permit} when it came from
 * `acquire()`. `onCancel` hears of every waiter that left by abort or timeout, so the semaphore can
 * grant the ones behind it.
 */
export function semaphoreQueue(
  semaphore: PermitSource,
  name: string,
  onCancel: () => void,
): WaitQueue<unknown> {
  return new WaitQueue<unknown>({
    timeoutError: (timeout) => {
      if (timeoutChannel.active) timeoutChannel.publish({ name, timeout })
      return new SemaphoreTimeoutError(timeout, `permits of '${name}'`)
    },
    onCancel,
    grantValue: (waiter) =>
      waiter.payload !== undefined ? waiter.payload : new Permit(semaphore, waiter.weight),
  })
}

/**
 * Rejects every waiter of `queue` with the options' `reason` (default: a `SemaphoreClearedError`)
 * and publishes one `cleared` rejection per waiter; returns how many there were.
 */
export function clearQueue(
  queue: WaitQueue<unknown>,
  name: string,
  options: ClearOptions | undefined,
): number {
  const reason =
    options === undefined ? undefined : readOptions('Semaphore.clear()', options, ['reason']).reason
  const count = queue.clear(reason === undefined ? () => new SemaphoreClearedError(name) : () => reason)
  if (count > 0 && rejectChannel.active) {
    for (let i = 0; i < count; i++) rejectChannel.publish({ name, reason: 'cleared' })
  }
  return count
}

/**
 * The error of a caller refused because the semaphore is closed or its queue is full (`maxQueue`
 * callers wait), published on `rejectChannel`.
 */
export function refusalError(closed: boolean, maxQueue: number, name: string): Error {
  const error = closed
    ? new ClosedError(`semaphore '${name}'`)
    : new QueueFullError(maxQueue, `queue of '${name}'`)
  if (rejectChannel.active) rejectChannel.publish({ name, reason: closed ? 'closed' : 'queue-full' })
  return error
}
