import { deferred, getTimerService, Timeout } from '@hotpath/core'
import { TaskTimeoutError } from './errors'
import type { RunBatch } from './internal/run-batch'
import type { PermitSource } from './permit'

/** Runs a granted task and releases its permits when it settles, even when it throws. */
export async function execute<R>(
  source: PermitSource,
  fn: (signal?: AbortSignal) => R | PromiseLike<R>,
  weight: number,
): Promise<Awaited<R>> {
  try {
    return await fn()
  } finally {
    source.release(weight)
  }
}

/**
 * Runs a task granted at once in a later microtask, never inside `run()`: the caller's code after
 * `run()` always comes first, as for a queued task, and nothing `fn` throws can escape. A weight-1
 * task goes through `executeOne`, the semaphore's one continuation for them, allocating no closure.
 */
export function startSoon<R>(
  source: PermitSource,
  fn: (signal?: AbortSignal) => R | PromiseLike<R>,
  weight: number,
  executeOne: (task: unknown) => unknown,
): Promise<Awaited<R>> {
  const started = Promise.resolve(fn as unknown)
  if (weight === 1) return started.then(executeOne) as Promise<Awaited<R>>
  return started.then(() => execute(source, fn, weight))
}

/**
 * The continuation of the batched tasks of `source` (made once per semaphore, so a batched task
 * allocates no closure): runs when the batch opens, in the caller's context, waits for its own
 * grant when the batch opened before it, runs the task and releases its permits.
 */
export function batchRunner(source: PermitSource): (batch: RunBatch) => Promise<unknown> {
  return async (batch) => {
    const index = batch.started++
    if (index >= batch.granted) await batch.waitTurn(index)
    const task = batch.take(index) as () => unknown
    try {
      return await task()
    } finally {
      source.release(batch.weights[index]!)
    }
  }
}

/**
 * Runs a granted task with a signal that aborts after `ms`: the call rejects then, but the permits
 * are released only when `fn` settles, so the limit holds even for a task that ignores its signal.
 */
export function executeTimed<R>(
  source: PermitSource,
  fn: (signal: AbortSignal) => R | PromiseLike<R>,
  weight: number,
  ms: number,
  name: string,
): Promise<Awaited<R>> {
  const controller = new AbortController()
  const outcome = deferred<Awaited<R>>()
  const timers = getTimerService()
  const deadline = new Timeout(() => {
    const error = new TaskTimeoutError(ms, `task of '${name}'`)
    controller.abort(error)
    outcome.reject(error)
  })
  timers.add(deadline, ms)
  const settled = () => {
    timers.remove(deadline)
    source.release(weight)
  }
  let running: Promise<Awaited<R>>
  try {
    running = Promise.resolve(fn(controller.signal)) as Promise<Awaited<R>>
  } catch (error) {
    running = Promise.reject(error)
  }
  running.then(
    (value) => {
      settled()
      outcome.resolve(value)
    },
    (error: unknown) => {
      settled()
      outcome.reject(error)
    },
  )
  return outcome.promise
}
