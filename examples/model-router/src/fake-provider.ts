import http from 'node:http'
import { listenLocal, sendJson } from '@hotpath/example-kit'

/** Behaviour of a fake upstream model provider; every field can be changed while it runs. */
export interface FakeProviderBehaviour {
  /** Mean response latency in ms. */
  latencyMs: number
  /** Random extra latency, as a fraction of `latencyMs` (0.5 = ±50%). */
  jitter: number
  /** Probability (0..1) that a request answers 500. */
  errorRate: number
  /** When true the provider refuses every request with 503 (an outage). */
  down: boolean
}

/** A local HTTP server that answers like an OpenAI-compatible chat completions API. */
export interface FakeProvider {
  readonly name: string
  readonly url: string
  readonly behaviour: FakeProviderBehaviour
  /** Requests received (including failed ones). */
  readonly requests: number
  close(): Promise<void>
}

/**
 * Starts a fake provider on a free loopback port.
 *
 * @example
 * const fast = await startFakeProvider('fast', { latencyMs: 20, errorRate: 0.01 })
 * fast.behaviour.down = true   // simulate an outage
 */
export async function startFakeProvider(
  name: string,
  behaviour: Partial<FakeProviderBehaviour> = {},
): Promise<FakeProvider> {
  const state: FakeProviderBehaviour = { latencyMs: 30, jitter: 0.3, errorRate: 0, down: false, ...behaviour }
  let requests = 0
  const server = http.createServer((req, res) => {
    requests++
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (chunk: string) => {
      body += chunk
    })
    req.on('end', () => {
      if (state.down) return sendJson(res, 503, { error: { message: `${name} is unavailable` } })
      const delay = Math.max(0, state.latencyMs * (1 + (Math.random() * 2 - 1) * state.jitter))
      setTimeout(() => {
        if (Math.random() < state.errorRate)
          return sendJson(res, 500, { error: { message: `${name} failed` } })
        let parsed: { model?: string; messages?: { content?: string }[] } = {}
        try {
          parsed = JSON.parse(body || '{}')
        } catch {
          return sendJson(res, 400, { error: { message: 'invalid JSON' } })
        }
        const last = parsed.messages?.at(-1)?.content ?? ''
        sendJson(res, 200, {
          id: `chatcmpl-${name}-${requests}`,
          object: 'chat.completion',
          created: Math.floor(Date.now() / 1000),
          model: parsed.model ?? 'unknown',
          provider: name,
          choices: [
            {
              index: 0,
              message: { role: 'assistant', content: `[${name}] echo: ${last}` },
              finish_reason: 'stop',
            },
          ],
          usage: {
            prompt_tokens: last.length,
            completion_tokens: last.length + 8,
            total_tokens: 2 * last.length + 8,
          },
        })
      }, delay)
    })
  })
  server.keepAliveTimeout = 5_000
  const { url, close } = await listenLocal(server)
  return {
    name,
    url,
    behaviour: state,
    get requests() {
      return requests
    },
    close,
  }
}
