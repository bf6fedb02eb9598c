import { Semaphore } from '@hotpath/concurrency'
import { deadlineSignal, getClock, HotpathError } from '@hotpath/core'
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

  async #call(provider: ProviderEntry, request: ChatRequest, signal?: AbortSignal): Promise<unknown> {
    const deadline = deadlineSignal({ timeout: this.#timeoutMs, signal })
    try {
      const response = await fetch(`${provider.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(request),
        signal: deadline.signal,
      })
      const body = await response.json()
      if (!response.ok) throw new Error(`${provider.name} answered ${response.status}`)
      return body
    } finally {
      deadline.clear()
    }
  }
}
