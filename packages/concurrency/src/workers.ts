import { PiscinaWorkerPool } from './workers-pool'
import type { WorkerPool, WorkerPoolOptions } from './workers-types'

/**
 * Creates a pool of worker threads (on [piscina](https://github.com/piscinajs/piscina), an
 * optional peer dependency: `npm install piscina`) for CPU-bound work that would otherwise block
 * the event loop: image resizing, hashing, parsing. Tasks wait in a bounded priority queue (O(log n)
 * per task) until a thread is free. Threads are unref'ed while idle, so an idle pool does not keep
 * the process alive; a pending task does.
 *
 * @example
 * // resize.js: export default async function ({ image, width }) { ... return resized }
 * const workers = createWorkerPool<{ image: Uint8Array; width: number }, Uint8Array>({
 *   filename: new URL('./resize.js', import.meta.url),
 *   maxThreads: 2,
 *   maxQueue: 1_000,
 *   idleTimeout: '30s',
 *   name: 'resize',
 * })
 * const out = await workers.run({ image, width: 320 }, { timeout: '2s', priority: 5, transferList: [image.buffer] })
 * await workers.close()
 */
export function createWorkerPool<T = unknown, R = unknown>(options: WorkerPoolOptions): WorkerPool<T, R> {
  return new PiscinaWorkerPool<T, R>(options)
}

export { ClosedError, QueueFullError, WorkerCrashedError, WorkerTimeoutError } from './errors'
export {
  type WorkerDoneEvent,
  type WorkerPool,
  type WorkerPoolOptions,
  type WorkerPoolStats,
  type WorkerRejectEvent,
  type WorkerRunContext,
  type WorkerRunOptions,
  workerDoneChannel,
  workerRejectChannel,
  workerRunTracer,
} from './workers-types'
