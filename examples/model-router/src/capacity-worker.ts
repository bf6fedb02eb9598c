import { parentPort, workerData } from 'node:worker_threads'
import { createRegistry } from '@hotpath/metrics'
import autocannon from 'autocannon'
import type { LoadStepOptions, LoadStepResult } from './capacity-load'

// Runs in a worker thread so the load generator never shares an event loop with the server it
// measures (the in-process router's utilization is read on the main thread).
const options = workerData as LoadStepOptions
const warmupMs = options.warmupMs ?? 0
const bucketMs = options.bucketMs ?? 250
const latency = createRegistry().histogram('step_latency', { unit: 'ms' }).with({})
const timeline: [at: number, ok: number, failed: number][] = []
let ok = 0
let failed = 0
let measuring = warmupMs === 0
const started = performance.now()
let measureStart = started

const count = (success: boolean, responseTime?: number) => {
  const now = performance.now()
  const slot = Math.floor((now - started) / bucketMs)
  while (timeline.length <= slot) timeline.push([timeline.length * bucketMs, 0, 0])
  timeline[slot]![success ? 1 : 2]++
  if (!measuring) return
  if (success) ok++
  else failed++
  if (responseTime !== undefined) latency.record(responseTime)
}

const instance = autocannon(
  {
    url: options.url,
    connections: options.connections,
    duration: (options.durationMs + warmupMs) / 1000,
    timeout: options.timeoutS ?? 10,
    pipelining: 1,
    ...(options.overallRate ? { overallRate: options.overallRate } : {}),
    requests: options.requests.map((r) => ({
      method: r.method,
      path: r.path,
      ...(r.body ? { body: r.body, headers: { 'content-type': 'application/json' } } : {}),
    })),
  },
  (error) => {
    if (error) throw error
    finish()
  },
)
if (warmupMs > 0) {
  setTimeout(() => {
    measuring = true
    measureStart = performance.now()
    parentPort!.postMessage({ type: 'measuring' })
  }, warmupMs)
}
instance.on('response', (_client, statusCode, _bytes, responseTime) => {
  count(statusCode >= 200 && statusCode < 400, responseTime)
})
instance.on('reqError', () => count(false))
function finish(): void {
  const measuredMs = performance.now() - measureStart
  const stats = latency.stats()
  const result: LoadStepResult = {
    connections: options.connections,
    requests: ok + failed,
    ok,
    failed,
    measuredMs,
    rps: ((ok + failed) * 1000) / measuredMs,
    errors: ok + failed === 0 ? 0 : failed / (ok + failed),
    p50: stats.p50,
    p95: stats.p95,
    p99: stats.p99,
    max: stats.max,
    timeline,
  }
  parentPort!.postMessage({ type: 'done', result })
}
