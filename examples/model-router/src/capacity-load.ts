import { Worker } from 'node:worker_threads'
import { CATALOG_MODELS } from './catalog'

/** One HTTP request of the load mix. */
export interface PlannedRequest {
  method: 'GET' | 'POST'
  path: string
  body?: string
}

/** What one load step sends, and how. */
export interface LoadStepOptions {
  /** Server base URL. */
  url: string
  /** Connections kept busy (the concurrency level). */
  connections: number
  /** Measured part of the step, ms. */
  durationMs: number
  /** Un-measured lead-in, ms, so the step is steady when measuring starts. */
  warmupMs?: number
  /** Total requests per second across connections (open-loop); unset = as fast as answered. */
  overallRate?: number
  /** Request mix, cycled through by each connection. */
  requests: PlannedRequest[]
  /** Width of a timeline bucket, ms. @default 250 */
  bucketMs?: number
  /** Per-request timeout, seconds. @default 10 */
  timeoutS?: number
}

/** What one load step measured (latencies in ms, from autocannon's per-response times). */
export interface LoadStepResult {
  connections: number
  requests: number
  ok: number
  failed: number
  measuredMs: number
  rps: number
  /** Share of requests that failed (non-2xx/3xx or no answer), 0..1. */
  errors: number
  p50: number
  p95: number
  p99: number
  max: number
  /** Per bucket since the step started (warm-up included): [at ms, ok, failed]. */
  timeline: [at: number, ok: number, failed: number][]
}

/**
 * The router's request mix: one model listing in ten, completions spread over every model.
 *
 * @example
 * const requests = requestMix(200)
 */
export function requestMix(count = 200, listShare = 0.1): PlannedRequest[] {
  return Array.from({ length: count }, (_, i) => {
    if ((i * 7919) % 1000 < listShare * 1000) return { method: 'GET', path: '/v1/models' }
    const model = CATALOG_MODELS[i % CATALOG_MODELS.length]!.id
    return {
      method: 'POST',
      path: '/v1/chat/completions',
      body: JSON.stringify({ model, messages: [{ role: 'user', content: `question ${i % 50}` }] }),
    }
  })
}

/**
 * Runs one autocannon step in a worker thread. `onMeasuring` fires when the warm-up ends.
 *
 * @example
 * const step = await runLoadStep({ url, connections: 32, durationMs: 10_000, warmupMs: 2_000, requests: requestMix() })
 */
export function runLoadStep(options: LoadStepOptions, onMeasuring?: () => void): Promise<LoadStepResult> {
  return new Promise((resolve, reject) => {
    // The worker is TypeScript importing the workspace's TypeScript sources: the parent's
    // `--import tsx` hooks do not reach worker threads, and Node 24's own type stripping cannot
    // resolve their extensionless imports, so the worker registers tsx before importing it.
    const entry = new URL('./capacity-worker.ts', import.meta.url).href
    const tsx = import.meta.resolve('tsx/esm/api')
    const bootstrap =
      `import(${JSON.stringify(tsx)}).then((api) => {` +
      ` api.register(); return import(${JSON.stringify(entry)}) })`
    const worker = new Worker(bootstrap, {
      eval: true,
      workerData: options,
    })
    let settled = false
    worker.on('message', (message: { type: string; result?: LoadStepResult }) => {
      if (message.type === 'measuring') onMeasuring?.()
      if (message.type === 'done') {
        settled = true
        resolve(message.result!)
        void worker.terminate()
      }
    })
    worker.once('error', (error) => {
      settled = true
      reject(error)
    })
    worker.once('exit', (code) => {
      if (!settled) reject(new Error(`load worker exited with ${code} before finishing`))
    })
  })
}
