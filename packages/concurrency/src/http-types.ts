import type { IncomingMessage, ServerResponse } from 'node:http'
import type { RateLimiterLike, RateLimitResult } from './rate-limiter'

/**
 * A limiter the middleware can describe in headers: `consume` plus the `limit` and `window` (ms)
 * that `RateLimit-Policy` and `X-RateLimit-Limit` announce. `RateLimiter` and `redisRateLimiter`
 * both fit.
 *
 * @example
 * const limiter: HttpRateLimiter = new RateLimiter({ limit: 100, window: '1m' })
 * const perUser: HttpRateLimiter = redisRateLimiter({ client: redis, limit: 100, window: '1m' })
 */
export interface HttpRateLimiter extends RateLimiterLike {
  /** Units admitted per window. */
  readonly limit: number
  /** The window in milliseconds. */
  readonly window: number
}

/**
 * Which rate-limit headers go on responses: the IETF `RateLimit-Policy` and `RateLimit` fields,
 * the `X-RateLimit-*` trio, both, or none (`Retry-After` is always sent with a 429).
 *
 * @example
 * const headers: RateLimitHeaders = 'both' // during a migration from X-RateLimit-* clients
 */
export type RateLimitHeaders = 'draft' | 'legacy' | 'both' | false

/**
 * Which proxies in front of the server are trusted to report the client address in
 * `X-Forwarded-For`: none (`false`), all (`true`), the nearest `n` hops, a list of addresses,
 * subnets (`'10.0.0.0/8'`) and the names `'loopback'`, `'linklocal'`, `'uniquelocal'`, or a
 * predicate given each address and its hop number (0 is the socket's peer).
 *
 * @example
 * const trustProxy: TrustProxy = ['loopback', '10.0.0.0/8'] // the load balancer's subnet
 */
export type TrustProxy =
  | boolean
  | number
  | string
  | readonly string[]
  | ((address: string, hop: number) => boolean)

/**
 * Options of {@link rateLimit}.
 *
 * @example
 * const options: RateLimitMiddlewareOptions = { limiter, key: (req) => String(req.headers['x-api-key'] ?? ''), cost: 1, headers: 'both' }
 */
export interface RateLimitMiddlewareOptions {
  /** The limiter that counts requests (required). */
  limiter: HttpRateLimiter
  /**
   * The key a request is counted under.
   * @default the client address (see `trustProxy`)
   */
  key?: (req: IncomingMessage) => string
  /**
   * Units one request takes, or a function of the request.
   * @default 1
   */
  cost?: number | ((req: IncomingMessage) => number)
  /** Requests for which it returns true are neither counted nor given headers. */
  skip?: (req: IncomingMessage) => boolean
  /**
   * Rate-limit headers on every counted response.
   * @default 'draft'
   */
  headers?: RateLimitHeaders
  /**
   * Proxies trusted to report the client address in `X-Forwarded-For`; only used by the default
   * key. Off by default: any client can send that header, so trusting it without a proxy that
   * overwrites it lets every request claim a fresh address and escape the limit.
   * @default false
   */
  trustProxy?: TrustProxy
  /**
   * Name of the quota policy in the `RateLimit-Policy` and `RateLimit` fields (printable ASCII,
   * no `"` or `\`).
   * @default 'default'
   */
  policy?: string
  /**
   * Answers a limited request instead of the default body; the status (429), `Retry-After` and
   * rate-limit headers are already set, and it must end the response.
   */
  onLimited?: (req: IncomingMessage, res: ServerResponse, result: RateLimitResult) => void
  /**
   * Body of the default 429: a string is sent as `text/plain`, anything else as JSON.
   * @default 'Too Many Requests'
   */
  message?: unknown
}
