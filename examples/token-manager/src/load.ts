import { ProgressBar } from '@hotpath/example-kit'
import { createRegistry } from '@hotpath/metrics'

/** Options of {@link runLoad}. */
export interface LoadOptions {
  url: string
  durationMs: number
  /** Concurrent clients reading `GET /tokens`. */
  readers: number
  /** Video jobs submitted per second. */
  jobsPerSecond: number
  progress?: boolean
}

/** What a load run measured. */
export interface LoadResult {
  requests: number
  durationMs: number
  throughput: number
  jobsSubmitted: number
  statuses: Record<string, number>
  latency: { p50: number; p95: number; p99: number; max: number }
  testReport: unknown
}

/**
 * Drives a token manager: `readers` clients list tokens in a loop, jobs are submitted at a steady
 * rate, and one batch token test runs halfway.
 *
 * @example
 * const result = await runLoad({ url, durationMs: 20_000, readers: 16, jobsPerSecond: 20 })
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const { url, durationMs } = options
  const latency = createRegistry().histogram('load_latency', { unit: 'ms' }).with({})
  const statuses: Record<string, number> = {}
  const started = performance.now()
  const deadline = started + durationMs
  let requests = 0
  let jobsSubmitted = 0
  const bar = options.progress ? new ProgressBar(durationMs) : undefined

  async function timed(path: string, init?: RequestInit): Promise<Response | undefined> {
    const t0 = performance.now()
    let status = 'error'
    let response: Response | undefined
    try {
      response = await fetch(url + path, init)
      await response.clone().arrayBuffer()
      status = String(response.status)
    } catch {
      // counted as 'error'
    }
    latency.record(performance.now() - t0)
    statuses[status] = (statuses[status] ?? 0) + 1
    requests++
    return response
  }

  async function reader(): Promise<void> {
    while (performance.now() < deadline) await timed('/tokens')
  }

  async function submitter(): Promise<void> {
    const gap = 1000 / options.jobsPerSecond
    const pending: Promise<unknown>[] = []
    for (let next = performance.now(); next < deadline; next += gap) {
      const wait = next - performance.now()
      if (wait > 0) await new Promise((r) => setTimeout(r, wait))
      jobsSubmitted++
      pending.push(
        timed('/videos', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ prompt: `clip ${jobsSubmitted}` }),
        }),
      )
      bar?.update(performance.now() - started, `${requests} requests, ${jobsSubmitted} jobs`)
    }
    await Promise.all(pending)
  }

  let testReport: unknown
  const tester = (async () => {
    await new Promise((r) => setTimeout(r, durationMs / 2))
    const response = await timed('/tokens/test', { method: 'POST' })
    testReport = await response?.json()
  })()

  await Promise.all([...Array.from({ length: options.readers }, reader), submitter(), tester])
  bar?.update(durationMs, `${requests} requests, ${jobsSubmitted} jobs`)
  bar?.done()
  const elapsed = performance.now() - started
  const stats = latency.stats()
  return {
    requests,
    durationMs: elapsed,
    throughput: (requests * 1000) / elapsed,
    jobsSubmitted,
    statuses,
    latency: { p50: stats.p50, p95: stats.p95, p99: stats.p99, max: stats.max },
    testReport,
  }
}
