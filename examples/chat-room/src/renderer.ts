import { createWorkerPool, type WorkerPool, type WorkerPoolStats } from '@hotpath/concurrency/workers'
import type { ChatConfig } from './config'
import { type RenderedMessage, renderMessage } from './render.mjs'

/** Renders messages: short ones on the main thread, long ones in a pool of worker threads. */
export interface Renderer {
  /** The worker pool (for `registry.collect()`). */
  readonly workers: WorkerPool<string, RenderedMessage>
  render(text: string): Promise<RenderedMessage>
  stats(): WorkerPoolStats
  close(): Promise<void>
}

/**
 * Masking, link scanning and markdown rendering grow with the message; a 2,000-character message
 * holds the event loop long enough to delay every other socket's frames, so messages from
 * `renderOffloadChars` characters up go to worker threads. Shorter ones are rendered inline: the
 * round trip to a thread would cost more than the work.
 *
 * @example
 * const renderer = createRenderer(config)
 * const { html } = await renderer.render(text)
 */
export function createRenderer(config: ChatConfig): Renderer {
  const workers = createWorkerPool<string, RenderedMessage>({
    filename: new URL('./render.mjs', import.meta.url),
    name: 'chat-render',
    minThreads: Math.min(1, config.renderThreads),
    maxThreads: config.renderThreads,
    maxQueue: 10_000,
    timeout: config.processingTimeoutMs,
  })
  return {
    workers,
    render: (text) =>
      text.length >= config.renderOffloadChars ? workers.run(text) : Promise.resolve(renderMessage(text)),
    stats: () => workers.stats(),
    close: () => workers.close(),
  }
}
