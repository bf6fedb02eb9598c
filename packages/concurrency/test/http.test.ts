import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { IDLE_EXIT_MS, runNodeSource, startRedis } from '@hotpath/test-utils'
import express from 'express'
import Fastify from 'fastify'
import { Redis } from 'ioredis'
import { describe, expect, it } from 'vitest'
import {
  type HttpLimitedEvent,
  httpLimitedChannel,
  type RateLimitMiddlewareOptions,
  rateLimit,
} from '../src/http'
import { RateLimiter, type RateLimitResult } from '../src/index'
import { redisRateLimiter } from '../src/redis'

type Kind = 'node:http' | 'express' | 'fastify'

interface Running {
  url: string
  close(): Promise<void>
}

/** A real server on port 0 answering `ok` behind the middleware, and 500 with the error's message. */
async function serve(kind: Kind, options: RateLimitMiddlewareOptions): Promise<Running> {
  const limit = rateLimit(options)
  if (kind === 'fastify') {
    const app = Fastify({ logger: false })
    await app.register(limit.fastify)
    app.setErrorHandler((error: Error, _request, reply) => reply.code(500).send(`error: ${error.message}`))
    app.get('/*', async () => 'ok')
    app.post('/*', async () => 'ok')
    const url = await app.listen({ port: 0, host: '127.0.0.1' })
    return { url, close: () => app.close() }
  }
  let server: Server
  if (kind === 'express') {
    const app = express()
    app.use(limit)
    app.all('/{*rest}', (_req, res) => {
      res.send('ok')
    })
    app.use((error: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.status(500).send(`error: ${error.message}`)
    })
    server = createServer(app)
  } else {
    server = createServer((req, res) =>
      limit(req, res, (error) => {
        if (error) {
          res.statusCode = 500
          res.end(`error: ${(error as Error).message}`)
        } else res.end('ok')
      }),
    )
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections()
        server.close((error) => (error ? reject(error) : resolve()))
      }),
  }
}

async function withServer(
  kind: Kind,
  options: RateLimitMiddlewareOptions,
  body: (url: string) => Promise<void>,
) {
  const running = await serve(kind, options)
  try {
    await body(running.url)
  } finally {
    await running.close()
  }
}

/** Parses one `"name";k=v;k=v` item of the RateLimit fields into its name and integer parameters. */
function parseItem(field: string | null): { name: string; params: Record<string, number> } {
  const match = /^"([^"\\]+)"((?:;[a-z]+=\d+)+)$/.exec(field ?? '')
  if (match === null) throw new Error(`not a RateLimit item: ${field}`)
  const params: Record<string, number> = {}
  for (const part of match[2]!.slice(1).split(';')) {
    const [key, value] = part.split('=')
    params[key!] = Number(value)
  }
  return { name: match[1]!, params }
}

/** A limiter that records every key and weight it is asked about. */
function recording(limit: number, window = 60_000) {
  const inner = new RateLimiter({ limit, window })
  const calls: [string, number][] = []
  return {
    calls,
    limiter: {
      limit,
      window,
      consume(key: string, weight = 1): RateLimitResult {
        calls.push([key, weight])
        return inner.consume(key, weight)
      },
    },
  }
}

const get = (url: string, headers: Record<string, string> = {}) => fetch(url, { headers })

describe.each(['node:http', 'express', 'fastify'] as const)('rateLimit on %s', (kind) => {
  it('admits up to the limit with draft headers, then answers 429 with Retry-After = t', async () => {
    const limiter = new RateLimiter({ limit: 3, window: '1m' })
    await withServer(kind, { limiter }, async (url) => {
      for (const expected of [2, 1, 0]) {
        const response = await get(url)
        expect(response.status).toBe(200)
        expect(await response.text()).toBe('ok')
        expect(response.headers.get('ratelimit-policy')).toBe('"default";q=3;w=60')
        const item = parseItem(response.headers.get('ratelimit'))
        expect(item.name).toBe('default')
        expect(item.params.r).toBe(expected)
        // Sliding window of 10 segments: a unit leaves between 60 and 66 s after it was taken.
        expect(item.params.t).toBeGreaterThanOrEqual(60)
        expect(item.params.t).toBeLessThanOrEqual(66)
        expect(response.headers.get('retry-after')).toBeNull()
        expect(response.headers.get('x-ratelimit-limit')).toBeNull()
      }
      const limited = await get(url)
      expect(limited.status).toBe(429)
      expect(await limited.text()).toBe('Too Many Requests')
      const retryAfter = limited.headers.get('retry-after')!
      expect(retryAfter).toMatch(/^\d+$/)
      expect(Number(retryAfter)).toBeGreaterThanOrEqual(60)
      expect(Number(retryAfter)).toBeLessThanOrEqual(66)
      const item = parseItem(limited.headers.get('ratelimit'))
      expect(item.params).toEqual({ r: 0, t: Number(retryAfter) })
      expect(limiter.stats()).toMatchObject({ allowed: 3, denied: 1 })
    })
  })

  it('legacy headers: limit, remaining and a Unix reset time inside the window; false sends none', async () => {
    const limiter = new RateLimiter({ limit: 2, window: '30s', algorithm: 'token-bucket' })
    await withServer(kind, { limiter, headers: 'legacy' }, async (url) => {
      const before = Math.floor(Date.now() / 1000)
      const first = await get(url)
      expect(first.headers.get('ratelimit')).toBeNull()
      expect(first.headers.get('x-ratelimit-limit')).toBe('2')
      expect(first.headers.get('x-ratelimit-remaining')).toBe('1')
      // One token of two refills at 2 per 30 s: 15 s, rounded up.
      const reset = Number(first.headers.get('x-ratelimit-reset'))
      expect(reset - before).toBeGreaterThanOrEqual(15)
      expect(reset - before).toBeLessThanOrEqual(17)
      await get(url)
      const limited = await get(url)
      expect(limited.status).toBe(429)
      expect(limited.headers.get('x-ratelimit-remaining')).toBe('0')
      const retryAfter = Number(limited.headers.get('retry-after'))
      expect(retryAfter).toBeGreaterThanOrEqual(14)
      expect(retryAfter).toBeLessThanOrEqual(15)
      expect(Number(limited.headers.get('x-ratelimit-reset')) - before).toBeGreaterThanOrEqual(retryAfter)
    })
    await withServer(
      kind,
      { limiter: new RateLimiter({ limit: 1, window: '1m' }), headers: false },
      async (url) => {
        const ok = await get(url)
        expect([...ok.headers.keys()].filter((h) => h.includes('ratelimit'))).toEqual([])
        const limited = await get(url)
        expect(limited.status).toBe(429)
        expect([...limited.headers.keys()].filter((h) => h.includes('ratelimit'))).toEqual([])
        expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0)
      },
    )
    await withServer(
      kind,
      { limiter: new RateLimiter({ limit: 5, window: '1m' }), headers: 'both', policy: 'per-ip' },
      async (url) => {
        const both = await get(url)
        expect(parseItem(both.headers.get('ratelimit'))).toMatchObject({ name: 'per-ip', params: { r: 4 } })
        expect(both.headers.get('ratelimit-policy')).toBe('"per-ip";q=5;w=60')
        expect(both.headers.get('x-ratelimit-remaining')).toBe('4')
      },
    )
  })

  it('counts under the key function, skips what skip selects, and takes the cost', async () => {
    const { limiter, calls } = recording(5)
    const options: RateLimitMiddlewareOptions = {
      limiter,
      key: (req) => String(req.headers['x-api-key'] ?? 'anonymous'),
      skip: (req) => req.url === '/health',
      cost: (req) => Number(req.headers['x-cost'] ?? 1),
    }
    await withServer(kind, options, async (url) => {
      const heavy = await get(`${url}/a`, { 'x-api-key': 'alice', 'x-cost': '3' })
      expect(parseItem(heavy.headers.get('ratelimit')).params.r).toBe(2)
      const again = await get(`${url}/a`, { 'x-api-key': 'alice', 'x-cost': '3' })
      expect(again.status).toBe(429)
      // Alice's 2 units are still there for a lighter request.
      const light = await get(`${url}/a`, { 'x-api-key': 'alice', 'x-cost': '2' })
      expect(light.status).toBe(200)
      expect(parseItem(light.headers.get('ratelimit')).params.r).toBe(0)
      // Bob has his own budget.
      const bob = await get(`${url}/a`, { 'x-api-key': 'bob' })
      expect(bob.status).toBe(200)
      expect(parseItem(bob.headers.get('ratelimit')).params.r).toBe(4)
      for (let i = 0; i < 3; i++) {
        const health = await get(`${url}/health`, { 'x-api-key': 'alice' })
        expect(health.status).toBe(200)
        expect(health.headers.get('ratelimit')).toBeNull()
      }
    })
    expect(calls).toEqual([
      ['alice', 3],
      ['alice', 3],
      ['alice', 2],
      ['bob', 1],
    ])
  })

  it('ignores X-Forwarded-For without trustProxy: a spoofed address does not evade the limit', async () => {
    const { limiter, calls } = recording(2)
    await withServer(kind, { limiter }, async (url) => {
      const statuses = []
      for (let i = 0; i < 4; i++) {
        statuses.push((await get(url, { 'x-forwarded-for': `203.0.113.${i}` })).status)
      }
      expect(statuses).toEqual([200, 200, 429, 429])
    })
    expect(new Set(calls.map(([key]) => key))).toEqual(new Set(['127.0.0.1']))
  })

  it('with trustProxy reads X-Forwarded-For as express does: all, hop count, address list', async () => {
    const all = recording(1)
    await withServer(kind, { limiter: all.limiter, trustProxy: true }, async (url) => {
      expect((await get(url, { 'x-forwarded-for': '198.51.100.7, 10.0.0.2' })).status).toBe(200)
      expect((await get(url, { 'x-forwarded-for': '198.51.100.8' })).status).toBe(200)
      expect((await get(url, { 'x-forwarded-for': '198.51.100.8' })).status).toBe(429)
      expect((await get(url)).status).toBe(200)
    })
    expect(all.calls.map(([key]) => key)).toEqual([
      '198.51.100.7',
      '198.51.100.8',
      '198.51.100.8',
      '127.0.0.1',
    ])

    const hops = recording(10)
    await withServer(kind, { limiter: hops.limiter, trustProxy: 1 }, async (url) => {
      await get(url, { 'x-forwarded-for': '198.51.100.7, 10.0.0.2' })
    })
    // One trusted hop (the socket's peer): the address it reports, the rightmost entry, is the client.
    expect(hops.calls.map(([key]) => key)).toEqual(['10.0.0.2'])

    const list = recording(10)
    await withServer(kind, { limiter: list.limiter, trustProxy: ['loopback', '10.0.0.0/8'] }, async (url) => {
      await get(url, { 'x-forwarded-for': '198.51.100.7, 192.0.2.1, 10.0.0.2' })
      await get(url, { 'x-forwarded-for': '198.51.100.7, 10.1.2.3' })
    })
    // 10.0.0.2 is trusted, 192.0.2.1 is not: an address left of it could be forged.
    expect(list.calls.map(([key]) => key)).toEqual(['192.0.2.1', '198.51.100.7'])

    const predicate = recording(10)
    const seen: [string, number][] = []
    const trustProxy = (address: string, hop: number) => {
      seen.push([address, hop])
      return address === '127.0.0.1'
    }
    await withServer(kind, { limiter: predicate.limiter, trustProxy }, async (url) => {
      await get(url, { 'x-forwarded-for': '198.51.100.7, 203.0.113.9' })
    })
    expect(predicate.calls.map(([key]) => key)).toEqual(['203.0.113.9'])
    expect(seen).toEqual([
      ['127.0.0.1', 0],
      ['203.0.113.9', 1],
    ])
  })

  it('sends limiter and option-function errors to the error path, synchronous or not', async () => {
    const failing = {
      limit: 1,
      window: 1_000,
      consume: (key: string) =>
        key === 'sync'
          ? (() => {
              throw new Error('sync boom')
            })()
          : Promise.reject(new Error('async boom')),
    }
    await withServer(
      kind,
      { limiter: failing, key: (req) => String(req.headers['x-mode'] ?? 'async') },
      async (url) => {
        const rejected = await get(url)
        expect(rejected.status).toBe(500)
        expect(await rejected.text()).toBe('error: async boom')
        const thrown = await get(url, { 'x-mode': 'sync' })
        expect(thrown.status).toBe(500)
        expect(await thrown.text()).toBe('error: sync boom')
      },
    )
    const limiter = new RateLimiter({ limit: 2, window: '1m' })
    await withServer(kind, { limiter, cost: () => 3 }, async (url) => {
      // A cost above the limit is refused by the limiter's argument check.
      const response = await get(url)
      expect(response.status).toBe(500)
      expect(await response.text()).toMatch(/^error: Expected `weight` to be an integer/)
    })
    const onLimited = () => {
      throw new Error('handler boom')
    }
    await withServer(
      kind,
      { limiter: new RateLimiter({ limit: 1, window: '1m' }), onLimited },
      async (url) => {
        expect((await get(url)).status).toBe(200)
        const response = await get(url)
        // Connect and Express hand it to the error handlers; Fastify, whose reply was handed over to
        // onLimited, gets an empty 500 and the error in its error path.
        expect(response.status).toBe(500)
        expect(await response.text()).toBe(kind === 'fastify' ? '' : 'error: handler boom')
      },
    )
  })

  it('onLimited answers the 429 itself; message sets the default body; the channel reports it', async () => {
    const events: HttpLimitedEvent[] = []
    const off = httpLimitedChannel.subscribe((event) => events.push(event))
    try {
      const onLimited = (_req: IncomingMessage, res: ServerResponse, result: RateLimitResult) => {
        res.setHeader('content-type', 'application/json')
        res.end(JSON.stringify({ error: 'slow down', retryAfterMs: Math.ceil(result.retryAfterMs) }))
      }
      await withServer(
        kind,
        { limiter: new RateLimiter({ limit: 1, window: '10s' }), onLimited },
        async (url) => {
          await get(`${url}/x?y=1`)
          const limited = await get(`${url}/x?y=1`)
          expect(limited.status).toBe(429)
          const body = (await limited.json()) as { error: string; retryAfterMs: number }
          expect(body.error).toBe('slow down')
          expect(body.retryAfterMs).toBeGreaterThan(9_000)
          // 10 s in 10 segments: up to one segment more than the window.
          expect(body.retryAfterMs).toBeLessThanOrEqual(11_000)
          expect(Number(limited.headers.get('retry-after'))).toBe(Math.ceil(body.retryAfterMs / 1000))
          expect(parseItem(limited.headers.get('ratelimit')).params.r).toBe(0)
        },
      )
      expect(events).toHaveLength(1)
      expect(events[0]).toMatchObject({
        policy: 'default',
        key: '127.0.0.1',
        cost: 1,
        method: 'GET',
        url: '/x?y=1',
      })
      const message = { error: { code: 'rate_limited' } }
      await withServer(
        kind,
        { limiter: new RateLimiter({ limit: 1, window: '10s' }), message },
        async (url) => {
          await get(url)
          const limited = await get(url)
          expect(limited.status).toBe(429)
          expect(limited.headers.get('content-type')).toMatch(/^application\/json/)
          expect(await limited.json()).toEqual(message)
        },
      )
    } finally {
      off()
    }
  })

  it('keeps answering from the Redis limiter fallback while Redis is down', async () => {
    const server = await startRedis()
    const client = new Redis(server.url, { maxRetriesPerRequest: 1, retryStrategy: () => 100 })
    client.on('error', () => {})
    try {
      await client.ping()
      const limiter = redisRateLimiter({
        client,
        limit: 2,
        window: '1m',
        timeout: '100ms',
        prefix: `http:${kind}:`,
      })
      await withServer(kind, { limiter, key: (req) => String(req.headers['x-user']) }, async (url) => {
        const viaRedis = [await get(url, { 'x-user': 'u1' }), await get(url, { 'x-user': 'u1' })]
        expect(viaRedis.map((r) => r.status)).toEqual([200, 200])
        expect((await get(url, { 'x-user': 'u1' })).status).toBe(429)
        expect(limiter.stats()).toMatchObject({ fallbacks: 0, degraded: false })
        await server.kill()
        // The in-memory fallback ('memory', the default) applies the same limit in this process.
        const during = []
        for (let i = 0; i < 3; i++) {
          const started = performance.now()
          const response = await get(url, { 'x-user': 'u2' })
          // Bounded by the limiter's timeout (2 s), never by ioredis's reconnection attempts.
          expect(performance.now() - started).toBeLessThan(3_000)
          during.push(response)
        }
        expect(during.map((r) => r.status)).toEqual([200, 200, 429])
        expect(parseItem(during[0]!.headers.get('ratelimit')).params.r).toBe(1)
        expect(Number(during[2]!.headers.get('retry-after'))).toBeGreaterThan(0)
        expect(limiter.stats()).toMatchObject({ fallbacks: 3, degraded: true })
      })
    } finally {
      client.disconnect()
      await server.stop()
    }
  }, 30_000)
})

describe('rateLimit options', () => {
  const limiter = new RateLimiter({ limit: 1, window: '1s' })

  it('refuses unknown names and wrong values with the package TypeError format', () => {
    expect(() => rateLimit({ limiter, max: 5 } as never)).toThrow(
      new TypeError(
        'Expected `max` to be a known option of rateLimit() (`limiter`, `key`, `cost`, `skip`, `headers`, `trustProxy`, `policy`, `onLimited`, `message`), got `5` (number)',
      ),
    )
    expect(() => rateLimit({} as never)).toThrow(
      /^Expected `limiter` to be a RateLimiter or Redis rate limiter/,
    )
    expect(() => rateLimit({ limiter: { consume: () => ({}) } } as never)).toThrow(/^Expected `limiter`/)
    expect(() => rateLimit({ limiter, cost: -1 })).toThrow(
      'Expected `cost` to be an integer >= 0, got `-1` (number)',
    )
    expect(() => rateLimit({ limiter, key: 'ip' as never })).toThrow(/^Expected `key` to be a function, got/)
    expect(() => rateLimit({ limiter, headers: 'draft-8' as never })).toThrow(
      /^Expected `headers` to be one of/,
    )
    expect(() => rateLimit({ limiter, trustProxy: ['10.0.0.0/33'] })).toThrow(
      /^Expected `trustProxy` to be IP addresses/,
    )
    expect(() => rateLimit({ limiter, trustProxy: ['proxy.local'] })).toThrow(/^Expected `trustProxy`/)
    expect(() => rateLimit({ limiter, trustProxy: ['toString'] })).toThrow(
      /^Expected `trustProxy` to be IP addresses/,
    )
    expect(() => rateLimit({ limiter, trustProxy: { hops: 1 } as never })).toThrow(
      /^Expected `trustProxy` to be a boolean/,
    )
    expect(() => rateLimit({ limiter, trustProxy: -1 })).toThrow(
      /^Expected `trustProxy` to be an integer >= 0/,
    )
    expect(() => rateLimit({ limiter, policy: 'a"b' })).toThrow(/^Expected `policy`/)
    expect(() => rateLimit(undefined as never)).toThrow(TypeError)
  })
})

describe.each(['esm', 'cjs'] as const)('process lifetime (%s, plain node on dist/)', (format) => {
  it('an idle middleware keeps nothing alive once its server is closed', async () => {
    const imports =
      format === 'esm'
        ? `import { createServer, get } from 'node:http'
import { RateLimiter } from '@hotpath/concurrency'
import { rateLimit } from '@hotpath/concurrency/http'`
        : `const { createServer, get } = require('node:http')
const { RateLimiter } = require('@hotpath/concurrency')
const { rateLimit } = require('@hotpath/concurrency/http')`
    const source = `${imports}
let closed = 0
process.on('exit', () => console.log('exit', Math.round(performance.now() - closed)))
const limit = rateLimit({ limiter: new RateLimiter({ limit: 5, window: '1h' }) })
const server = createServer((req, res) => limit(req, res, () => res.end('ok')))
server.listen(0, '127.0.0.1', async () => {
  // node:http without an agent: fetch() would keep its own client alive for about a second
  // after the server closes, which is not what this measures.
  const options = { host: '127.0.0.1', port: server.address().port, agent: false }
  const response = await new Promise((resolve) => get(options, resolve))
  console.log(response.statusCode, response.headers.ratelimit)
  response.resume()
  await new Promise((resolve) => response.on('end', resolve))
  server.closeAllConnections()
  server.close(() => { closed = performance.now() })
})
`
    const result = await runNodeSource(new URL('..', import.meta.url), format, source, { timeout: 15_000 })
    expect(result.timedOut).toBe(false)
    expect(result.code).toBe(0)
    // Sliding window of 1 h in 10 segments: the unit leaves it between 60 and 66 minutes from now.
    const [status, field] = result.lines[0]!.split(' ')
    expect(status).toBe('200')
    expect(field).toMatch(/^"default";r=4;t=\d+$/)
    const t = Number(field!.split('t=')[1])
    expect(t).toBeGreaterThanOrEqual(3_600)
    expect(t).toBeLessThanOrEqual(3_960)
    const last = result.lines.at(-1) ?? ''
    expect(last).toMatch(/^exit \d+$/)
    // A one-hour window and nothing pending: the process ends right after the close (the child's
    // own clock, from the close callback to its exit), not an hour later.
    expect(Number(last.split(' ')[1])).toBeLessThanOrEqual(IDLE_EXIT_MS)
  }, 30_000)
})
