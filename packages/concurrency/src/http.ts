import type { IncomingMessage, ServerResponse } from 'node:http'
import { checkFunction, checkInteger, checkOneOf, eventChannel, invalidOption } from '@hotpath/core'
import { concurrencyChannels } from './channels'
import { clientAddress, trustTest } from './http-client-address'
import type { HttpRateLimiter, RateLimitMiddlewareOptions } from './http-types'
import { readOptions } from './internal/options'
import type { RateLimitResult } from './rate-limiter'

export type { HttpRateLimiter, RateLimitHeaders, RateLimitMiddlewareOptions, TrustProxy } from './http-types'

/**
 * Message on `hotpath:concurrency:http-limited`.
 *
 * @example
 * httpLimitedChannel.subscribe(({ method, url, key, retryAfterMs }: HttpLimitedEvent) => log.info({ method, url, key, retryAfterMs }, '429'))
 */
export interface HttpLimitedEvent {
  policy: string
  key: string
  cost: number
  method: string
  url: string
  retryAfterMs: number
}

/**
 * `hotpath:concurrency:http-limited`: the middleware answered 429. The limiter's own
 * `hotpath:concurrency:rate-limited` fires too; this one adds the request's method and URL.
 *
 * @example
 * httpLimitedChannel.subscribe(({ policy, url }) => limited.inc({ policy, route: url }))
 */
export const httpLimitedChannel = eventChannel<HttpLimitedEvent>(concurrencyChannels.httpLimited)

/** What {@link RateLimitMiddleware.fastify} needs of a Fastify instance (Fastify is not imported). */
interface FastifyLike {
  addHook(
    name: 'onRequest',
    hook: (request: FastifyRequestLike, reply: FastifyReplyLike, done: (error?: Error) => void) => void,
  ): unknown
}

interface FastifyRequestLike {
  readonly raw: IncomingMessage
}

interface FastifyReplyLike {
  readonly raw: ServerResponse
  code(statusCode: number): FastifyReplyLike
  type(contentType: string): FastifyReplyLike
  send(payload?: unknown): FastifyReplyLike
  hijack(): FastifyReplyLike
}

/**
 * A Fastify plugin; register it on the instance (or in an encapsulated context) whose routes it
 * limits.
 *
 * @example
 * const plugin: FastifyRateLimitPlugin = rateLimit({ limiter }).fastify
 * await app.register(plugin)
 */
export type FastifyRateLimitPlugin = (
  instance: FastifyLike,
  options: unknown,
  done: (error?: Error) => void,
) => void

/**
 * A Connect-style middleware (node:http with a `next`, Express, Connect) with a Fastify plugin at
 * `.fastify`.
 *
 * @example
 * const limit: RateLimitMiddleware = rateLimit({ limiter })
 * http.createServer((req, res) => limit(req, res, (error) => (error ? fail(res, error) : route(req, res))))
 */
export interface RateLimitMiddleware {
  (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void): void
  /** The same limit as a Fastify plugin (an `onRequest` hook). */
  readonly fastify: FastifyRateLimitPlugin
}

const KNOWN = ['limiter', 'key', 'cost', 'skip', 'headers', 'trustProxy', 'policy', 'onLimited', 'message']
/** An sf-string without escapes, so the policy name goes into the fields as it is. */
const POLICY_NAME = /^[\x20\x21\x23-\x5b\x5d-\x7e]+$/
/**
 * Rate limiting for HTTP servers on top of a
 * {@link @hotpath/concurrency!RateLimiter | RateLimiter} or a Redis limiter: counts each
 * request under its key (the client address by default), answers `429 Too Many Requests` with
 * `Retry-After` once the limit is reached, and sets rate-limit headers on every counted response.
 * The result is Connect-style middleware for node:http and Express, with a Fastify plugin at
 * `.fastify`. Errors of the limiter or of the option functions go to `next(error)` (Fastify's
 * error handler), never to an unhandled rejection. The middleware keeps no timer or socket.
 *
 * @example
 * import { RateLimiter } from '@hotpath/concurrency'
 * import { rateLimit } from '@hotpath/concurrency/http'
 * const limit = rateLimit({ limiter: new RateLimiter({ limit: 100, window: '1m' }) })
 * expressApp.use(limit)                 // Express
 * await fastifyApp.register(limit.fastify) // Fastify
 */
export function rateLimit(options: RateLimitMiddlewareOptions): RateLimitMiddleware {
  const raw = readOptions('rateLimit()', options, KNOWN)
  const limiter = raw.limiter as HttpRateLimiter | undefined
  if (
    limiter === null ||
    typeof limiter !== 'object' ||
    typeof limiter.consume !== 'function' ||
    !(limiter.limit > 0) ||
    !(limiter.window > 0)
  ) {
    throw invalidOption('limiter', 'a RateLimiter or Redis rate limiter (consume, limit, window)', limiter)
  }
  const trust = trustTest(raw.trustProxy)
  const keyOf =
    raw.key === undefined
      ? (req: IncomingMessage) => clientAddress(req, trust)
      : checkFunction<(req: IncomingMessage) => string>('key', raw.key)
  const cost = raw.cost ?? 1
  if (typeof cost !== 'function') checkInteger('cost', cost, { min: 0 })
  const skip =
    raw.skip === undefined ? undefined : checkFunction<(req: IncomingMessage) => boolean>('skip', raw.skip)
  const headers = checkOneOf('headers', raw.headers ?? 'draft', ['draft', 'legacy', 'both', false] as const)
  const policy = raw.policy ?? 'default'
  if (typeof policy !== 'string' || !POLICY_NAME.test(policy)) {
    throw invalidOption('policy', 'a non-empty string of printable ASCII without " or \\', policy)
  }
  const onLimited =
    raw.onLimited === undefined
      ? undefined
      : checkFunction<NonNullable<RateLimitMiddlewareOptions['onLimited']>>('onLimited', raw.onLimited)
  const message = raw.message ?? 'Too Many Requests'
  const body = typeof message === 'string' ? message : JSON.stringify(message)
  const contentType =
    typeof message === 'string' ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8'
  if (body === undefined) throw invalidOption('message', 'a string or a JSON-serializable value', message)

  const draft = headers === 'draft' || headers === 'both'
  const legacy = headers === 'legacy' || headers === 'both'
  const limit = String(limiter.limit)
  const name = `"${policy}"`
  const policyField = `${name};q=${limit};w=${Math.ceil(limiter.window / 1000)}`

  /** Writes the headers for `result`; on a 429, `RateLimit`'s `t` and `Retry-After` name the same second. */
  const writeHeaders = (res: ServerResponse, result: RateLimitResult): void => {
    const seconds = result.allowed
      ? Math.ceil(result.resetMs / 1000)
      : Math.max(1, Math.ceil(result.retryAfterMs / 1000))
    const remaining = result.remaining > 0 ? Math.floor(result.remaining) : 0
    if (!result.allowed) res.setHeader('Retry-After', seconds)
    // Appended, not set: another limiter on the same route adds its own policy to the list.
    if (draft) {
      res.appendHeader('RateLimit-Policy', policyField)
      res.appendHeader('RateLimit', `${name};r=${remaining};t=${seconds}`)
    }
    if (legacy) {
      res.setHeader('X-RateLimit-Limit', limit)
      res.setHeader('X-RateLimit-Remaining', remaining)
      res.setHeader('X-RateLimit-Reset', Math.ceil(Date.now() / 1000) + seconds)
    }
  }

  const publish = (req: IncomingMessage, key: string, weight: number, result: RateLimitResult): void => {
    httpLimitedChannel.publish({
      policy,
      key,
      cost: weight,
      method: req.method ?? '',
      url: req.url ?? '',
      retryAfterMs: result.retryAfterMs,
    })
  }

  /**
   * Counts `req`: undefined for a skipped request, the result (synchronously for an in-memory
   * limiter) or its promise. Throws what the option functions or a synchronous limiter throw.
   */
  const count = (req: IncomingMessage): RateLimitResult | PromiseLike<RateLimitResult> | undefined => {
    if (skip?.(req)) return undefined
    const key = keyOf(req)
    const weight = typeof cost === 'number' ? cost : cost(req)
    const outcome = limiter.consume(key, weight)
    // Any thenable, not only a native Promise: a custom limiter may return its own.
    if (typeof (outcome as PromiseLike<RateLimitResult>).then === 'function') {
      return (outcome as PromiseLike<RateLimitResult>).then((result) => {
        if (!result.allowed && httpLimitedChannel.active) publish(req, key, weight, result)
        return result
      })
    }
    const result = outcome as RateLimitResult
    if (!result.allowed && httpLimitedChannel.active) publish(req, key, weight, result)
    return result
  }

  /**
   * Runs `answer` once the result is known. An error of `count` or of the limiter goes to `fail`;
   * an error thrown by `answer` itself (code after `next()`) is not caught on the synchronous
   * path, and is rethrown as an uncaught exception on the asynchronous one, as it would be in
   * any callback: caught here, it would reach `next` a second time, or be an unhandled rejection.
   */
  const run = (
    req: IncomingMessage,
    answer: (result: RateLimitResult | undefined) => void,
    fail: (error: unknown) => void,
  ): void => {
    let outcome: RateLimitResult | PromiseLike<RateLimitResult> | undefined
    try {
      outcome = count(req)
    } catch (error) {
      fail(error)
      return
    }
    if (outcome === undefined || !('then' in outcome)) {
      answer(outcome)
      return
    }
    outcome.then((result) => {
      try {
        answer(result)
      } catch (error) {
        process.nextTick(() => {
          throw error
        })
      }
    }, fail)
  }

  const middleware = (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void): void => {
    run(
      req,
      (result) => {
        if (result === undefined || res.headersSent) return next()
        writeHeaders(res, result)
        if (result.allowed) return next()
        res.statusCode = 429
        if (onLimited === undefined) {
          res.setHeader('Content-Type', contentType)
          res.end(body)
          return
        }
        try {
          onLimited(req, res, result)
        } catch (error) {
          next(error)
        }
      },
      next,
    )
  }

  const hook = (
    request: FastifyRequestLike,
    reply: FastifyReplyLike,
    done: (error?: Error) => void,
  ): void => {
    const req = request.raw
    const res = reply.raw
    const fail = (error: unknown) => done(error as Error)
    run(
      req,
      (result) => {
        if (result === undefined) return done()
        writeHeaders(res, result)
        if (result.allowed) return done()
        if (onLimited === undefined) {
          reply.code(429).type(contentType).send(body)
          return
        }
        // Handed the raw response, so Fastify must not answer this request itself.
        reply.hijack()
        res.statusCode = 429
        try {
          onLimited(req, res, result)
        } catch (error) {
          // Fastify no longer answers a hijacked request: end it here rather than leave it hanging.
          if (!res.headersSent) res.setHeader('Content-Type', 'text/plain; charset=utf-8')
          res.statusCode = 500
          res.end()
          fail(error)
        }
      },
      fail,
    )
  }

  const plugin: FastifyRateLimitPlugin = (instance, _options, done) => {
    instance.addHook('onRequest', hook)
    done()
  }
  // Like fastify-plugin: the hook applies to the context that registers the plugin, not to a
  // child context of its own.
  Object.assign(plugin, {
    [Symbol.for('skip-override')]: true,
    [Symbol.for('fastify.display-name')]: '@hotpath/concurrency/http',
  })
  return Object.assign(middleware, { fastify: plugin })
}
