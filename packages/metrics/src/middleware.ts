import type { IncomingMessage, ServerResponse } from 'node:http'
import {
  checkBoolean,
  checkFunction,
  checkKnownOptions,
  checkOptionsObject,
  checkString,
  getClock,
  invalidOption,
} from '@hotpath/core'
import type { Histogram } from './histogram'
import type { Registry } from './registry'

/**
 * Options of {@link timingMiddleware}.
 *
 * @example
 * timingMiddleware({ registry, metric: 'http_server_duration', header: false, processTime: true })
 */
export interface TimingOptions {
  /** Registry the per-route latency histogram is registered in. @default required */
  registry: Registry
  /**
   * Name of the histogram (unit ms, labels method, route, status).
   * @default 'http_request_duration'
   */
  metric?: string
  /**
   * Header that receives `total;dur=<ms>` in Server-Timing syntax (appended to a value the app set);
   * `false` for none.
   * @default 'Server-Timing'
   */
  header?: string | false
  /**
   * Adds `X-Process-Time: <seconds>` to every response, for clients and proxies that read that
   * header rather than Server-Timing.
   * @default false
   */
  processTime?: boolean
  /**
   * Route label for node:http servers (Express and Fastify use their matched route pattern).
   * Return a pattern, not the raw URL, to keep the label set bounded.
   * @default the path without its query string
   */
  route?: (req: IncomingMessage) => string
}

/**
 * Route label of requests Express or Fastify did not match.
 *
 * @example
 * latency.with({ method: 'GET', route: UNMATCHED_ROUTE, status: 404 })
 */
export const UNMATCHED_ROUTE = '<unmatched>'

/** The part of a Fastify instance the plugin uses. */
export interface FastifyLike {
  addHook(name: string, hook: (...args: never[]) => unknown): unknown
}

interface FastifyRequestLike {
  method: string
  url: string
  routeOptions?: { url?: string }
}

interface FastifyReplyLike {
  statusCode: number
  getHeader(name: string): unknown
  header(name: string, value: string): unknown
}

/**
 * A timing middleware: node:http/Express `(req, res, next?)`, and a Fastify plugin when passed to
 * `fastify.register()`.
 *
 * @example
 * const timing: TimingMiddleware = timingMiddleware({ registry })
 * timing.histogram.with({ method: 'GET', route: '/chat', status: 200 }).stats().p95
 */
export interface TimingMiddleware {
  (req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void): void
  /** Fastify plugin form: `await fastify.register(timing)`. */
  (instance: FastifyLike, opts: unknown, done: (err?: Error) => void): void
  /** The histogram the middleware records into. */
  readonly histogram: Histogram<'method' | 'route' | 'status'>
}

function appendTiming(existing: unknown, entry: string): string {
  if (existing === undefined || existing === '') return entry
  return `${Array.isArray(existing) ? existing.join(', ') : String(existing)}, ${entry}`
}

function pathOf(url: string | undefined): string {
  if (!url) return '/'
  const q = url.indexOf('?')
  return q === -1 ? url : url.slice(0, q)
}

/**
 * Times every request into a per-route latency histogram and adds a `Server-Timing` header (and,
 * on request, `X-Process-Time`). One function serves node:http, Express and Fastify.
 *
 * @example
 * const timing = timingMiddleware({ registry, processTime: true })
 * http.createServer((req, res) => { timing(req, res); app(req, res) })   // node:http
 * expressApp.use(timing)                                                  // Express
 * await fastify.register(timing)                                          // Fastify plugin
 */
export function timingMiddleware(options: TimingOptions): TimingMiddleware {
  const raw = checkOptionsObject('options', options)
  checkKnownOptions('timingMiddleware()', raw, ['registry', 'metric', 'header', 'processTime', 'route'])
  const registry = raw.registry
  if (!registry || typeof registry.histogram !== 'function')
    throw invalidOption('registry', 'a Registry', registry)
  const metric = checkString('metric', raw.metric ?? 'http_request_duration')
  const header = raw.header === false ? false : checkString('header', raw.header ?? 'Server-Timing')
  const processTime = checkBoolean('processTime', raw.processTime ?? false)
  const routeOf =
    raw.route === undefined ? undefined : checkFunction<(req: IncomingMessage) => string>('route', raw.route)
  const histogram = registry.histogram(metric, {
    unit: 'ms',
    labels: ['method', 'route', 'status'],
    help: 'HTTP request duration by method, route and status.',
  })

  const headers = (elapsed: number, get: () => unknown, set: (name: string, value: string) => void) => {
    if (header) set(header, appendTiming(get(), `total;dur=${elapsed.toFixed(3)}`))
    if (processTime) set('X-Process-Time', (elapsed / 1000).toFixed(6))
  }

  function fastifyPlugin(fastify: FastifyLike, _opts: unknown, done: (err?: Error) => void): void {
    const started = new WeakMap<object, number>()
    fastify.addHook('onRequest', ((request: object, _reply: unknown, next: () => void) => {
      started.set(request, getClock().monotonic())
      next()
    }) as never)
    fastify.addHook('onSend', ((
      request: object,
      reply: FastifyReplyLike,
      payload: unknown,
      next: (err: null, payload: unknown) => void,
    ) => {
      const at = started.get(request)
      if (at !== undefined) {
        headers(
          getClock().monotonic() - at,
          () => (header ? reply.getHeader(header) : undefined),
          (n, v) => reply.header(n, v),
        )
      }
      next(null, payload)
    }) as never)
    fastify.addHook('onResponse', ((
      request: FastifyRequestLike,
      reply: FastifyReplyLike,
      next: () => void,
    ) => {
      const at = started.get(request)
      if (at !== undefined) {
        histogram
          .with({
            method: request.method,
            route: request.routeOptions?.url ?? UNMATCHED_ROUTE,
            status: reply.statusCode,
          })
          .record(getClock().monotonic() - at)
      }
      next()
    }) as never)
    done()
  }

  const middleware = function timing(req: unknown, res: unknown, next?: unknown): void {
    if (req !== null && typeof (req as FastifyLike).addHook === 'function') {
      fastifyPlugin(req as FastifyLike, res, next as (err?: Error) => void)
      return
    }
    const request = req as IncomingMessage & { route?: { path?: unknown }; baseUrl?: string }
    const response = res as ServerResponse
    const started = getClock().monotonic()
    const writeHead = response.writeHead
    response.writeHead = function patchedWriteHead(this: ServerResponse, ...args: unknown[]) {
      if (!this.headersSent) {
        headers(
          getClock().monotonic() - started,
          () => (header ? this.getHeader(header) : undefined),
          (n, v) => this.setHeader(n, v),
        )
      }
      return (writeHead as (...a: unknown[]) => ServerResponse).apply(this, args)
    } as ServerResponse['writeHead']
    response.once('close', () => {
      let route: string
      if (typeof next === 'function') {
        const path = request.route?.path
        route = typeof path === 'string' ? (request.baseUrl ?? '') + path : UNMATCHED_ROUTE
      } else {
        route = routeOf ? routeOf(request) : pathOf(request.url)
      }
      histogram
        .with({
          method: request.method ?? 'GET',
          route,
          status: response.writableFinished ? response.statusCode : 'aborted',
        })
        .record(getClock().monotonic() - started)
    })
    if (typeof next === 'function') next()
  } as TimingMiddleware
  Object.defineProperty(middleware, 'histogram', { value: histogram, enumerable: true })
  // Fastify: apply the hooks to the whole instance instead of an encapsulated child context.
  Object.defineProperty(middleware, Symbol.for('skip-override'), { value: true })
  Object.defineProperty(middleware, Symbol.for('fastify.display-name'), { value: 'hotpath-timing' })
  return middleware
}
