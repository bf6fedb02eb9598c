import { ProgressBar } from '@hotpath/example-kit'
import { createRegistry } from '@hotpath/metrics'
import { CATALOG_MODELS } from './catalog'

/** Options of {@link runLoad}. */
export interface LoadOptions {
  /** Router base URL. */
  url: string
  /** How long to drive load, ms. */
  durationMs: number
  /** Concurrent clients. */
  concurrency: number
  /** Share of requests that list models instead of completing (0..1). */
  listShare?: number
  /** Show a progress bar. */
  progress?: boolean
}

/** One request of a load run (times are epoch ms). */
export interface ResponseRecord {
  /** True for `POST /v1/chat/completions`, false for `GET /v1/models`. */
  completion: boolean
  /** HTTP status, or `'error'` when no response came. */
  status: string
  startedAt: number
  endedAt: number
}

/** What a load run measured. */
export interface LoadResult {
  requests: number
  durationMs: number
  throughput: number
  statuses: Record<string, number>
  /** Statuses of the completion requests alone. */
  completions: Record<string, number>
  /** Every request, in completion order. */
  responses: ResponseRecord[]
  latency: { p50: number; p95: number; p99: number; max: number; mean: number }
  byProvider: Record<string, number>
}

interface PlannedRequest {
  method: 'GET' | 'POST'
  path: string
  body: string | undefined
}

function plan(count: number, listShare: number): PlannedRequest[] {
  // Pre-generated request mix, so the driver does no work beyond sending.
  return Array.from({ length: count }, (_, i) => {
    if ((i * 7919) % 1000 < listShare * 1000) return { method: 'GET', path: '/v1/models', body: undefined }
    const model = CATALOG_MODELS[i % CATALOG_MODELS.length]!.id
    return {
      method: 'POST',
      path: '/v1/chat/completions',
      body: JSON.stringify({ model, messages: [{ role: 'user', content: `question ${i % 50}` }] }),
    }
  })
}

/**
 * Drives the router with `concurrency` clients for `durationMs` and measures latency with an HDR
 * histogram.
 *
 * @example
 * const result = await runLoad({ url: 'http://127.0.0.1:8080', durationMs: 20_000, concurrency: 32 })
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const { url, durationMs, concurrency } = options
  const requests = plan(4_096, options.listShare ?? 0.1)
  const registry = createRegistry()
  const latency = registry.histogram('load_latency', { unit: 'ms' }).with({})
  const statuses: Record<string, number> = {}
  const byProvider: Record<string, number> = {}
  const completions: Record<string, number> = {}
  const responses: ResponseRecord[] = []
  const epoch = (t: number) => performance.timeOrigin + t
  let sent = 0
  const started = performance.now()
  const deadline = started + durationMs
  const bar = options.progress ? new ProgressBar(durationMs) : undefined
  const ticker = bar
    ? setInterval(() => {
        const elapsed = performance.now() - started
        bar.update(elapsed, `${sent} requests, ${Math.round((sent * 1000) / Math.max(1, elapsed))} req/s`)
      }, 250)
    : undefined

  async function client(offset: number): Promise<void> {
    let i = offset
    while (performance.now() < deadline) {
      const request = requests[i++ % requests.length]!
      const t0 = performance.now()
      let status = 'error'
      try {
        const response = await fetch(url + request.path, {
          method: request.method,
          headers: request.body ? { 'content-type': 'application/json' } : undefined,
          body: request.body,
        })
        await response.arrayBuffer()
        status = String(response.status)
        const provider = response.headers.get('x-provider')
        if (provider) byProvider[provider] = (byProvider[provider] ?? 0) + 1
      } catch {
        // counted as 'error'
      }
      const t1 = performance.now()
      latency.record(t1 - t0)
      statuses[status] = (statuses[status] ?? 0) + 1
      const completion = request.method === 'POST'
      if (completion) completions[status] = (completions[status] ?? 0) + 1
      responses.push({ completion, status, startedAt: epoch(t0), endedAt: epoch(t1) })
      sent++
    }
  }

  await Promise.all(Array.from({ length: concurrency }, (_, c) => client(c * 97)))
  if (ticker) clearInterval(ticker)
  bar?.update(durationMs, `${sent} requests`)
  bar?.done()
  const elapsed = performance.now() - started
  const stats = latency.stats()
  return {
    requests: sent,
    durationMs: elapsed,
    throughput: (sent * 1000) / elapsed,
    statuses,
    completions,
    responses,
    latency: { p50: stats.p50, p95: stats.p95, p99: stats.p99, max: stats.max, mean: stats.mean },
    byProvider,
  }
}
