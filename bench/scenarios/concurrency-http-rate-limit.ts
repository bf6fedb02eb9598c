import type { IncomingMessage, ServerResponse } from 'node:http'
import { RateLimiter } from '@hotpath/concurrency'
import { rateLimit } from '@hotpath/concurrency/http'
import { rateLimit as expressRateLimit } from 'express-rate-limit'
import { defineScenario } from '../lib/scenario'

const OPS = 10_000
const KEYS = 1_000

/** The part of a response both middlewares touch: header writes (node's and Express's spelling). */
class MockResponse {
  headersSent = false
  statusCode = 200
  readonly headers = new Map<string, unknown>()
  setHeader(name: string, value: unknown) {
    this.headers.set(name.toLowerCase(), value)
    return this
  }
  getHeader(name: string) {
    return this.headers.get(name.toLowerCase())
  }
  appendHeader(name: string, value: unknown) {
    const previous = this.headers.get(name.toLowerCase())
    this.headers.set(name.toLowerCase(), previous === undefined ? value : [previous, value].flat())
    return this
  }
  append(name: string, value: unknown) {
    return this.appendHeader(name, value)
  }
  status(code: number) {
    this.statusCode = code
    return this
  }
  send() {
    return this
  }
  end() {
    return this
  }
}

export default defineScenario(() => {
  // One request object per client address, as Express would hand them over (`ip` for
  // express-rate-limit, the socket's address for hotpath's default key).
  const requests = Array.from({ length: KEYS }, (_, i) => {
    const ip = `10.0.${i >> 8}.${i & 255}`
    return {
      ip,
      method: 'GET',
      url: '/',
      headers: {},
      socket: { remoteAddress: ip },
      app: { get: () => false },
    }
  })
  // Every request admitted: the scenario measures the per-request bookkeeping, not the 429 path.
  const limit = 1_000_000_000
  const hotpath = rateLimit({ limiter: new RateLimiter({ limit, window: '1m', maxKeys: KEYS * 2 }) })
  const erl = expressRateLimit({ windowMs: 60_000, limit, standardHeaders: 'draft-8', legacyHeaders: false })
  type Middleware = (req: never, res: never, next: () => void) => unknown
  const awaited = (middleware: Middleware, i: number) =>
    new Promise<void>((resolve) =>
      middleware(requests[i % KEYS] as never, new MockResponse() as never, resolve),
    )
  const noop = () => {}
  return {
    name: 'concurrency/http-rate-limit',
    description: 'middleware per request on a mocked req/res pair, 1,000 client addresses, all admitted',
    baseline: 'express-rate-limit (draft-8 headers)',
    opsPerRun: OPS,
    tasks: {
      'hotpath rateLimit (draft headers)': () => {
        for (let i = 0; i < OPS; i++) {
          hotpath(
            requests[i % KEYS] as unknown as IncomingMessage,
            new MockResponse() as unknown as ServerResponse,
            noop,
          )
        }
      },
      'hotpath rateLimit, awaited': async () => {
        for (let i = 0; i < OPS; i++) await awaited(hotpath as Middleware, i)
      },
      'express-rate-limit (draft-8 headers)': async () => {
        for (let i = 0; i < OPS; i++) await awaited(erl as unknown as Middleware, i)
      },
    },
  }
})
