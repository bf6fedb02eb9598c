import http from 'node:http'
import { listenLocal, sendJson } from '@hotpath/example-kit'

/** Tunables of the fake video-generation provider. */
export interface FakeVideoApiOptions {
  /** Milliseconds a job takes from 0 to 100%. */
  jobDurationMs: number
  /** Probability that a progress check finds the job stalled (no progress). */
  stallRate: number
  /** Tokens the API rejects as invalid (401). */
  invalidTokens: Set<string>
  /** Latency of a token test call (`GET /v1/me`), ms. */
  testLatencyMs: number
}

/** A local HTTP server imitating a video-generation provider with progress, quotas and token checks. */
export interface FakeVideoApi {
  readonly url: string
  readonly options: FakeVideoApiOptions
  /** Most `GET /v1/me` calls seen in flight at once (the batch test's concurrency). */
  readonly maxConcurrentTests: number
  /** Progress checks received. */
  readonly statusChecks: number
  close(): Promise<void>
}

interface Job {
  startedAt: number
  progress: number
  lastCheckAt: number
}

/**
 * Starts the fake API on a free loopback port.
 *
 * @example
 * const api = await startFakeVideoApi({ jobDurationMs: 2_000 })
 * api.options.invalidTokens.add('tok-3')
 */
export async function startFakeVideoApi(options: Partial<FakeVideoApiOptions> = {}): Promise<FakeVideoApi> {
  const state: FakeVideoApiOptions = {
    jobDurationMs: 20_000,
    stallRate: 0.1,
    invalidTokens: new Set(),
    testLatencyMs: 30,
    ...options,
  }
  const jobs = new Map<string, Job>()
  let nextJob = 0
  let testsInFlight = 0
  let maxConcurrentTests = 0
  let statusChecks = 0

  const server = http.createServer((req, res) => {
    const token = (req.headers.authorization ?? '').replace(/^Bearer /, '')
    if (!token || state.invalidTokens.has(token)) return sendJson(res, 401, { error: 'invalid token' })
    const url = new URL(req.url ?? '/', 'http://localhost')
    if (req.method === 'GET' && url.pathname === '/v1/me') {
      testsInFlight++
      maxConcurrentTests = Math.max(maxConcurrentTests, testsInFlight)
      setTimeout(() => {
        testsInFlight--
        sendJson(res, 200, { token, quota: 100 })
      }, state.testLatencyMs)
      return
    }
    if (req.method === 'POST' && url.pathname === '/v1/refresh') {
      return sendJson(res, 200, { token, expiresIn: 3_600 })
    }
    if (req.method === 'POST' && url.pathname === '/v1/videos') {
      const id = `vid_${++nextJob}`
      jobs.set(id, { startedAt: Date.now(), progress: 0, lastCheckAt: Date.now() })
      return sendJson(res, 201, { id, status: 'queued', progress: 0 })
    }
    const match = /^\/v1\/videos\/([\w-]+)$/.exec(url.pathname)
    if (req.method === 'GET' && match) {
      statusChecks++
      const job = jobs.get(match[1]!)
      if (!job) return sendJson(res, 404, { error: 'no such job' })
      const now = Date.now()
      // Progress follows elapsed time, except on checks that find the job stalled.
      if (Math.random() >= state.stallRate) {
        job.progress = Math.min(100, Math.floor(((now - job.startedAt) / state.jobDurationMs) * 100))
      }
      job.lastCheckAt = now
      const status = job.progress >= 100 ? 'succeeded' : job.progress > 0 ? 'running' : 'queued'
      return sendJson(res, 200, {
        id: match[1],
        status,
        progress: job.progress,
        ...(status === 'succeeded' ? { url: `https://videos.example/${match[1]}.mp4` } : {}),
      })
    }
    sendJson(res, 404, { error: 'not found' })
  })
  const { url, close } = await listenLocal(server)
  return {
    url,
    options: state,
    get maxConcurrentTests() {
      return maxConcurrentTests
    },
    get statusChecks() {
      return statusChecks
    },
    close,
  }
}
