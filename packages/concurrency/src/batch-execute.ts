import { abortReason, checkFunction, checkInteger, checkOneOf, checkSignal, getClock } from '@hotpath/core'
import { checkIterable, readOptions } from './internal/options'

/**
 * Outcome of one item in `'settle'` mode.
 *
 * @example
 * const outcomes: SettledItem<Response>[] = await batchExecute(urls, (url) => fetch(url))
 * for (const o of outcomes) if (o.status === 'rejected') log.warn({ err: o.reason, ms: o.durationMs }, 'fetch failed')
 */
export type SettledItem<R> =
  | { status: 'fulfilled'; value: R; durationMs: number }
  | { status: 'rejected'; reason: unknown; durationMs: number }

/**
 * Context passed to the function of {@link batchExecute} and {@link mapConcurrent}.
 *
 * @example
 * await batchExecute(parts, (part, { index, signal }: TaskContext) => upload(part, { partNumber: index + 1, signal }))
 */
export interface TaskContext {
  /** Position of the item in the input. */
  index: number
  /** Aborts when the caller's signal aborts or, in `'fail-fast'` mode, when another item failed. */
  signal: AbortSignal
}

/**
 * Options of {@link batchExecute}.
 *
 * @example
 * const options: BatchExecuteOptions = { concurrency: 10, batchSize: 100, signal }
 * const outcomes = await batchExecute(urls, (url, { signal }) => fetch(url, { signal }), options)
 */
export interface BatchExecuteOptions {
  /**
   * Items processed at once.
   * @default 5
   */
  concurrency?: number
  /**
   * Items per batch: a batch starts when the previous one has completely finished (handy to
   * pace calls to an external API). `Infinity` = one batch.
   * @default Infinity
   */
  batchSize?: number
  /**
   * Aborts the run: nothing new starts, running items see the signal, the call rejects.
   * @default undefined
   */
  signal?: AbortSignal
  /**
   * `'settle'`: every item runs and the result lists each outcome. `'fail-fast'`: the first error
   * rejects the call and aborts the other items through `ctx.signal`.
   * @default 'settle'
   */
  mode?: 'settle' | 'fail-fast'
}

/**
 * Runs `fn` over `items` with bounded concurrency. In `'settle'` mode it resolves with one
 * `{ status, value | reason, durationMs }` per item in input order; in `'fail-fast'` mode with
 * the values, or rejects on the first error (the others are aborted through their signal).
 *
 * @example
 * const outcomes = await batchExecute(tokens, (token, { signal }) => testToken(token, { signal }), {
 *   concurrency: 5,
 * })
 * const broken = outcomes.filter((o) => o.status === 'rejected')
 */
export function batchExecute<T, R>(
  items: Iterable<T>,
  fn: (item: T, context: TaskContext) => R | PromiseLike<R>,
  options?: BatchExecuteOptions & { mode?: 'settle' },
): Promise<SettledItem<Awaited<R>>[]>
export function batchExecute<T, R>(
  items: Iterable<T>,
  fn: (item: T, context: TaskContext) => R | PromiseLike<R>,
  options: BatchExecuteOptions & { mode: 'fail-fast' },
): Promise<Awaited<R>[]>
export function batchExecute<T, R>(
  items: Iterable<T>,
  fn: (item: T, context: TaskContext) => R | PromiseLike<R>,
  options?: BatchExecuteOptions,
): Promise<SettledItem<Awaited<R>>[] | Awaited<R>[]>
export function batchExecute<T, R>(
  items: Iterable<T>,
  fn: (item: T, context: TaskContext) => R | PromiseLike<R>,
  options?: BatchExecuteOptions,
): Promise<SettledItem<Awaited<R>>[] | Awaited<R>[]> {
  checkIterable('items', items)
  checkFunction('fn', fn)
  const raw = readOptions('batchExecute()', options, ['concurrency', 'batchSize', 'signal', 'mode'])
  const concurrency = checkInteger('concurrency', raw.concurrency ?? 5, { min: 1 })
  const batchSize = checkInteger('batchSize', raw.batchSize ?? Number.POSITIVE_INFINITY, {
    min: 1,
    allowInfinity: true,
  })
  const mode = checkOneOf('mode', raw.mode ?? 'settle', ['settle', 'fail-fast'] as const)
  const outer = checkSignal('signal', raw.signal)
  return execute(items, fn, concurrency, batchSize, mode, outer)
}

async function execute<T, R>(
  items: Iterable<T>,
  fn: (item: T, context: TaskContext) => R | PromiseLike<R>,
  concurrency: number,
  batchSize: number,
  mode: 'settle' | 'fail-fast',
  outer: AbortSignal | undefined,
): Promise<SettledItem<Awaited<R>>[] | Awaited<R>[]> {
  if (outer?.aborted) throw abortReason(outer)
  const list = Array.isArray(items) ? (items as T[]) : Array.from(items)
  const results: SettledItem<Awaited<R>>[] = new Array(list.length)
  const controller = new AbortController()
  let failure: { error: unknown } | undefined
  let rejectCurrent: ((error: unknown) => void) | undefined
  const onOuterAbort = () => {
    failure ??= { error: abortReason(outer!) }
    controller.abort(outer!.reason)
    rejectCurrent?.(failure.error)
  }
  outer?.addEventListener('abort', onOuterAbort, { once: true })
  try {
    for (let start = 0; start < list.length && failure === undefined; start += batchSize) {
      const end = Math.min(list.length, start + batchSize)
      let next = start
      const worker = async () => {
        while (next < end && failure === undefined) {
          const index = next++
          const started = getClock().monotonic()
          try {
            const value = await fn(list[index] as T, { index, signal: controller.signal })
            results[index] = { status: 'fulfilled', value, durationMs: getClock().monotonic() - started }
          } catch (reason) {
            results[index] = { status: 'rejected', reason, durationMs: getClock().monotonic() - started }
            if (mode === 'fail-fast' && failure === undefined) {
              failure = { error: reason }
              controller.abort(reason)
              rejectCurrent?.(reason)
            }
          }
        }
      }
      const workers: Promise<void>[] = []
      for (let i = 0; i < Math.min(concurrency, end - start); i++) workers.push(worker())
      // Rejects as soon as something fails, without waiting for the items still running.
      await new Promise<void>((resolve, reject) => {
        rejectCurrent = reject
        let left = workers.length
        for (const w of workers) void w.then(() => (--left === 0 ? resolve() : undefined))
      })
    }
    if (failure !== undefined) throw failure.error
  } finally {
    outer?.removeEventListener('abort', onOuterAbort)
    if (!controller.signal.aborted) controller.abort()
  }
  if (mode === 'fail-fast') return results.map((r) => (r as { value: Awaited<R> }).value)
  return results
}
