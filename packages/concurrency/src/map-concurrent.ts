import { abortReason, checkBoolean, checkFunction, checkInteger, checkSignal } from '@hotpath/core'
import { Deque } from '@hotpath/core/internal'
import type { TaskContext } from './batch-execute'
import { checkIterable, readOptions } from './internal/options'

/**
 * Options of {@link mapConcurrent}.
 *
 * @example
 * const options: MapConcurrentOptions = { concurrency: 8, ordered: false, signal }
 * for await (const res of mapConcurrent(urls, (url, { signal }) => fetch(url, { signal }), options)) await save(res)
 */
export interface MapConcurrentOptions {
  /**
   * Items processed at once; also how far ahead of the consumer the source is read.
   * @default 4
   */
  concurrency?: number
  /**
   * Yield results in input order (a slow item holds back the ones after it, and no new item
   * starts while `concurrency` results wait). `false` yields in completion order.
   * @default true
   */
  ordered?: boolean
  /**
   * Stops reading the source and aborts running items (they see `ctx.signal`).
   * @default undefined
   */
  signal?: AbortSignal
}

type Slot<R> = { done: boolean; ok: boolean; value: R | undefined; error: unknown; promise: Promise<void> }

/**
 * Maps an (async) iterable with bounded concurrency, yielding results as an async generator. It
 * applies backpressure: the source is read only when a slot is free, so at most `concurrency`
 * items are in flight or waiting to be consumed. The first error is thrown from the loop (after
 * the results before it, in ordered mode) and aborts the rest; breaking out of the loop does too.
 *
 * @example
 * for await (const row of mapConcurrent(readLines(file), (line) => enrich(line), { concurrency: 8 })) {
 *   await sink.write(row)
 * }
 */
export function mapConcurrent<T, R>(
  source: AsyncIterable<T> | Iterable<T>,
  fn: (item: T, context: TaskContext) => R | PromiseLike<R>,
  options?: MapConcurrentOptions,
): AsyncGenerator<Awaited<R>, void, undefined> {
  // Checked here, not in the generator, whose body would only run at the first `next()`.
  checkIterable('source', source, true)
  checkFunction('fn', fn)
  const raw = readOptions('mapConcurrent()', options, ['concurrency', 'ordered', 'signal'])
  const concurrency = checkInteger('concurrency', raw.concurrency ?? 4, { min: 1 })
  const ordered = checkBoolean('ordered', raw.ordered ?? true)
  const outer = checkSignal('signal', raw.signal)
  return generate(source, fn, concurrency, ordered, outer)
}

async function* generate<T, R>(
  source: AsyncIterable<T> | Iterable<T>,
  fn: (item: T, context: TaskContext) => R | PromiseLike<R>,
  concurrency: number,
  ordered: boolean,
  outer: AbortSignal | undefined,
): AsyncGenerator<Awaited<R>, void, undefined> {
  const iterator =
    Symbol.asyncIterator in source
      ? (source as AsyncIterable<T>)[Symbol.asyncIterator]()
      : (source as Iterable<T>)[Symbol.iterator]()
  const controller = new AbortController()
  const onAbort = () => controller.abort(outer!.reason)
  outer?.addEventListener('abort', onAbort, { once: true })
  const slots = new Deque<Slot<Awaited<R>>>()
  let wake: (() => void) | undefined
  let index = 0
  let exhausted = false
  let running = 0
  const start = (item: T) => {
    const slot = { done: false, ok: false, value: undefined, error: undefined } as unknown as Slot<Awaited<R>>
    running++
    slot.promise = (async () => {
      try {
        slot.value = await fn(item, { index: index++, signal: controller.signal })
        slot.ok = true
      } catch (error) {
        slot.error = error
      }
      slot.done = true
      running--
      wake?.()
    })()
    slots.push(slot)
  }
  try {
    for (;;) {
      if (outer?.aborted) throw abortReason(outer)
      while (!exhausted && slots.size < concurrency) {
        const next = await iterator.next()
        if (outer?.aborted) throw abortReason(outer)
        if (next.done) exhausted = true
        else start(next.value)
      }
      if (slots.size === 0) return
      let slot: Slot<Awaited<R>> | undefined
      if (ordered) {
        slot = slots.shift()!
        await slot.promise
      } else {
        for (;;) {
          for (let i = 0; i < slots.size; i++) {
            const candidate = slots.at(i)!
            if (candidate.done) {
              slot = candidate
              break
            }
          }
          if (slot) break
          await new Promise<void>((resolve) => {
            wake = resolve
          })
          wake = undefined
        }
        // Remove the finished slot, keeping the others in order.
        const keep = new Deque<Slot<Awaited<R>>>()
        for (let s = slots.shift(); s !== undefined; s = slots.shift()) if (s !== slot) keep.push(s)
        for (let s = keep.shift(); s !== undefined; s = keep.shift()) slots.push(s)
      }
      if (!slot.ok) throw slot.error
      yield slot.value as Awaited<R>
    }
  } finally {
    outer?.removeEventListener('abort', onAbort)
    if (running > 0 || !exhausted) controller.abort(new Error('mapConcurrent stopped'))
    if (!exhausted) await iterator.return?.()
  }
}
