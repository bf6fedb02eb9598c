import http from 'node:http'
import https from 'node:https'
import { Semaphore } from '@hotpath/concurrency'
import { getClock, HotpathError, schedule, TimeoutError } from '@hotpath/core'
import type { ProviderEntry } from './catalog'
import type { ChatRequest } from './chat-request'
import type { ProviderScores } from './provider-scores'

export type { ChatRequest } from './chat-request'

/** The outcome of routing one request. */
export interface RoutedResponse {
  status: number
  provider: string
  body: unknown
  latencyMs: number
  attempts: number
}

/** A provider's completions endpoint, as `http.request()` options. */
interface Target {
  secure: boolean
  hostname: string
  port: number
  path: string
}

/** Raised when every provider able to serve the model failed. */
export class AllProvidersFailedError extends HotpathError {
  constructor(model: string, tried: string[], cause: unknown) {
    super('E_ALL_PROVIDERS_FAILED', `Every provider for '${model}' failed (${tried.join(', ')}).`, { cause })
  }
}

/**
 * Calls providers for a model, best-ranked first, failing over to the next one on an error or a
 * timeout. Each provider has its own semaphore so a slow provider cannot take every socket.
 *
 * @example
 * const upstream = new Upstream(scores, ['alpha', 'beta'], { concurrency: 32, timeoutMs: 2_000 })
 * const routed = await upstream.complete(request, providers)
 */
export class Upstream {
  readonly #limits = new Map<string, Semaphore>()
  readonly #scores: ProviderScores
  readonly #concurrency: number
  readonly #timeoutMs: number
  // Keep-alive agents: node:http writes a request's headers and body in one write and parses the
  // answer without the WHATWG streams that `fetch` builds for every call.
  readonly #http = new http.Agent({ keepAlive: true })
  readonly #https = new https.Agent({ keepAlive: true })
  readonly #targets = new Map<string, Target>()

  constructor(
    scores: ProviderScores,
    providers: readonly string[],
    options: { concurrency: number; timeoutMs: number },
  ) {
    this.#scores = scores
    this.#concurrency = options.concurrency
    this.#timeoutMs = options.timeoutMs
    for (const name of providers) this.#limit(name)
  }

  /** The per-provider semaphores, for `/stats` and metrics. */
  get limits(): ReadonlyMap<string, Semaphore> {
    return this.#limits
  }

  #limit(provider: string): Semaphore {
    let semaphore = this.#limits.get(provider)
    if (!semaphore) {
      semaphore = new Semaphore({ permits: this.#concurrency, maxQueue: 1_000, name: `upstream:${provider}` })
      this.#limits.set(provider, semaphore)
    }
    return semaphore
  }

  /** Routes `request` to the best provider among `candidates`, with failover. */
  async complete(
    request: ChatRequest,
    candidates: ProviderEntry[],
    signal?: AbortSignal,
  ): Promise<RoutedResponse> {
    const ranked = this.#scores.rank(candidates.map((c) => c.name))
    const byName = new Map(candidates.map((c) => [c.name, c]))
    const tried: string[] = []
    let lastError: unknown
    for (const name of ranked) {
      const provider = byName.get(name)!
      tried.push(name)
      const started = getClock().monotonic()
      try {
        const response = await this.#limit(name).run(() => this.#call(provider, request, signal), {
          timeout: this.#timeoutMs,
          signal,
        })
        const latencyMs = getClock().monotonic() - started
        this.#scores.record(name, { ok: true, latencyMs })
        return { status: 200, provider: name, body: response, latencyMs, attempts: tried.length }
      } catch (error) {
        this.#scores.record(name, { ok: false, latencyMs: getClock().monotonic() - started })
        lastError = error
        if (signal?.aborted) break
      }
    }
    throw new AllProvidersFailedError(request.model, tried, lastError)
  }

  /** Closes the upstream connections kept alive for reuse. */
  close(): void {
    this.#http.destroy()
    this.#https.destroy()
  }

  /** Where a provider's completions go, worked out once per provider URL. */
  #target(provider: ProviderEntry): Target {
    let target = this.#targets.get(provider.url)
    if (!target) {
      const url = new URL(
        'v1/chat/completions',
        provider.url.endsWith('/') ? provider.url : `${provider.url}/`,
      )
      const secure = url.protocol === 'https:'
      target = {
        secure,
        hostname: url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname,
        port: url.port === '' ? (secure ? 443 : 80) : Number(url.port),
        path: url.pathname + url.search,
      }
      this.#targets.set(provider.url, target)
    }
    return target
  }

  /**
   * One POST to `provider`. The deadline is a timer of the process-wide timer service that
   * destroys the request, rather than an AbortController per call; a caller's `signal` is
   * handed to the request only when there is one.
   */
  #call(provider: ProviderEntry, request: ChatRequest, signal?: AbortSignal): Promise<unknown> {
    const { secure, hostname, port, path } = this.#target(provider)
    const payload = JSON.stringify(request)
    const timeoutMs = this.#timeoutMs
    return new Promise<unknown>((resolve, reject) => {
      const req = (secure ? https : http).request(
        {
          hostname,
          port,
          path,
          method: 'POST',
          agent: secure ? this.#https : this.#http,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
          ...(signal ? { signal } : {}),
        },
        (res) => {
          let body = ''
          res.setEncoding('utf8')
          res.on('data', (chunk: string) => {
            body += chunk
          })
          res.on('end', () => {
            deadline.cancel()
            const status = res.statusCode ?? 0
            if (status < 200 || status > 299) reject(new Error(`${provider.name} answered ${status}`))
            else {
              try {
                resolve(JSON.parse(body))
              } catch (error) {
                reject(error)
              }
            }
          })
          res.on('error', fail)
          res.on('close', () => {
            if (!res.complete) fail(new Error(`${provider.name} closed its answer early`))
          })
        },
      )
      const deadline = schedule(() => req.destroy(new TimeoutError(timeoutMs)), timeoutMs)
      function fail(error: unknown): void {
        deadline.cancel()
        reject(error)
      }
      req.on('error', fail)
      req.end(payload)
    })
  }
}
