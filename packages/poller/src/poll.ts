import { checkFunction } from '@hotpath/core'
import type { PollContext, PollOptions } from './options'
import { resolvePollOptions } from './rules'
import { PollRun } from './run'

/**
 * Calls `check` until `isDone(state)` and resolves with that final state. Every poller in the
 * process shares one timer (core's timer service); the interval can follow the progress (`phases`), stretch on stalls,
 * honour `ctx.retryAfter()` hints and a shared `limiter`. The `deadline` and the `signal` abort the
 * check in flight through `ctx.signal`, and no check starts after the promise settles.
 *
 * Rejects with `PollTimeoutError` (deadline), `PollAbortedError` (signal), `PollFailedError`
 * (`isFailed`), `PollStalledError` (`stall.failAfter`) or `PollCheckError` (check threw, retries
 * exhausted).
 *
 * @example
 * const video = await poll(({ signal }) => api.status(jobId, { signal }), {
 *   isDone: (s) => s.state === 'done',
 *   isFailed: (s) => s.state === 'error',
 *   progress: (s) => s.percent,
 *   interval: phases([{ until: 30, every: '5s' }, { until: 70, every: '3s' }, { every: '2s' }]),
 *   stall: { after: 3, backoff: 1.5 },
 *   maxInterval: '10s',
 *   deadline: '10m',
 * })
 */
export function poll<T>(
  check: (context: PollContext) => T | PromiseLike<T>,
  options?: PollOptions<T>,
): Promise<T> {
  checkFunction('check', check)
  const resolved = resolvePollOptions(options)
  // The run keeps only `resolve`: it rejects through it (see `PollRun.finish`).
  return new Promise<T>((resolve) => new PollRun<T>(check, resolved, resolve).start())
}
