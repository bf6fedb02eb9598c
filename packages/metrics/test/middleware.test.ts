import { once } from 'node:events'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { setClock } from '@hotpath/core'
import express from 'express'
import Fastify from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { createRegistry, type SlowCall, slowLog, timingMiddleware, UNMATCHED_ROUTE } from '../src/index'

const closers: Array<() => Promise<unknown>> = []
afterEach(async () => {
  while (closers.length) await closers.pop()!()
  setClock()
})

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function get(port: number, path: string) {
  const res = await fetch(`http://127.0.0.1:${port}${path}`)
  await res.text()
  return res
}

interface Row {
  method: string
  route: string
  status: string
  count: number
  max: number
}

function seriesOf(timing: ReturnType<typeof timingMiddleware>): Row[] {
  return [...timing.histogram.series()].map((s) => ({
    method: String(s.labels.method),
    route: String(s.labels.route),
    status: String(s.labels.status),
    count: s.stats().count,
    max: s.stats().max,
  }))
}

describe('timingMiddleware', () => {
  it('node:http: per-route histogram, Server-Timing appended, X-Process-Time in seconds', async () => {
    const registry = createRegistry()
    const timing = timingMiddleware({
      registry,
      processTime: true,
      route: (req) => (req.url?.startsWith('/users/') ? '/users/:id' : (req.url ?? '/')),
    })
    const server = http.createServer((req, res) => {
      timing(req, res)
      res.setHeader('Server-Timing', 'db;dur=1')
      setTimeout(() => res.end('ok'), req.url === '/slow' ? 30 : 0)
    })
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    closers.push(() => new Promise((r) => server.close(r)))
    const port = (server.address() as AddressInfo).port
    const res = await get(port, '/slow')
    expect(res.headers.get('server-timing')).toMatch(/^db;dur=1, total;dur=\d+\.\d{3}$/)
    const dur = Number(/total;dur=([\d.]+)/.exec(res.headers.get('server-timing')!)![1])
    expect(dur).toBeGreaterThanOrEqual(25)
    expect(Number(res.headers.get('x-process-time'))).toBeCloseTo(dur / 1000, 2)
    await get(port, '/users/1')
    await get(port, '/users/2?x=1')
    await wait(20)
    const rows = seriesOf(timing)
    expect(rows).toContainEqual(
      expect.objectContaining({ method: 'GET', route: '/users/:id', status: '200', count: 2 }),
    )
    const slow = rows.find((r) => r.route === '/slow')!
    expect(slow.max).toBeGreaterThanOrEqual(25)
  })

  it('Express: labels with the matched route pattern, unmatched routes grouped', async () => {
    const registry = createRegistry()
    const timing = timingMiddleware({ registry, header: 'Server-Timing' })
    const app = express()
    app.use(timing)
    app.get('/chat/:room', (_req, res) => {
      res.status(201).send('hi')
    })
    const server = app.listen(0, '127.0.0.1')
    await once(server, 'listening')
    closers.push(() => new Promise((r) => server.close(r)))
    const port = (server.address() as AddressInfo).port
    const res = await get(port, '/chat/a')
    expect(res.headers.get('server-timing')).toMatch(/^total;dur=\d+\.\d{3}$/)
    expect(res.headers.get('x-process-time')).toBeNull()
    await get(port, '/chat/b')
    await get(port, '/nope')
    await wait(20)
    const rows = seriesOf(timing)
    expect(rows).toContainEqual(
      expect.objectContaining({ method: 'GET', route: '/chat/:room', status: '201', count: 2 }),
    )
    expect(rows).toContainEqual(expect.objectContaining({ route: UNMATCHED_ROUTE, status: '404', count: 1 }))
  })

  it('Fastify: the same function registers as a plugin covering every route', async () => {
    const registry = createRegistry()
    const timing = timingMiddleware({ registry, processTime: true })
    const app = Fastify()
    await app.register(timing)
    app.get('/items/:id', async () => {
      await wait(15)
      return { ok: true }
    })
    await app.listen({ port: 0, host: '127.0.0.1' })
    closers.push(() => app.close())
    const port = (app.server.address() as AddressInfo).port
    const res = await get(port, '/items/7')
    expect(res.headers.get('server-timing')).toMatch(/^total;dur=\d+\.\d{3}$/)
    expect(Number(res.headers.get('x-process-time'))).toBeGreaterThanOrEqual(0.01)
    await get(port, '/missing')
    await wait(20)
    const rows = seriesOf(timing)
    expect(rows).toContainEqual(
      expect.objectContaining({ method: 'GET', route: '/items/:id', status: '200', count: 1 }),
    )
    expect(rows.find((r) => r.route === '/items/:id')!.max).toBeGreaterThanOrEqual(10)
    expect(rows).toContainEqual(expect.objectContaining({ route: UNMATCHED_ROUTE, status: '404' }))
  })

  it('validates its options', () => {
    expect(() => timingMiddleware({} as never)).toThrow(
      'Expected `registry` to be a Registry, got `undefined`',
    )
    expect(() => timingMiddleware({ registry: createRegistry(), header: 1 as never })).toThrow(
      'Expected `header` to be a non-empty string, got `1` (number)',
    )
  })
})

describe('slowLog', () => {
  function fakeClock() {
    let now = 0
    setClock({ now: () => now, monotonic: () => now })
    return { advance: (ms: number) => (now += ms) }
  }

  it('logs calls slower than the threshold through a pino-style logger, with duration and name', async () => {
    const clock = fakeClock()
    const logged: Array<[SlowCall, string]> = []
    const logger = { warn: (details: object, msg: string) => logged.push([details as SlowCall, msg]) }
    const registry = createRegistry()
    const durations = registry.histogram('db_query_duration').with({})
    const slow = slowLog({ threshold: '1s', logger, histogram: durations })
    const query = slow(async (ms: number) => {
      clock.advance(ms)
      return ms * 2
    }, 'db.query')
    expect(await query(200)).toBe(400)
    expect(logged).toEqual([])
    expect(await query(1500)).toBe(3000)
    expect(logged).toEqual([
      [
        { name: 'db.query', durationMs: 1500, thresholdMs: 1000, failed: false },
        'Slow operation: db.query took 1.50s',
      ],
    ])
    expect(durations.stats()).toMatchObject({ count: 2, max: 1500 })
  })

  it('logs slow failures with the error and rethrows it', async () => {
    const clock = fakeClock()
    const logged: SlowCall[] = []
    const slow = slowLog({ threshold: 100, logger: { warn: (d) => logged.push(d as SlowCall) } })
    const boom = new Error('boom')
    const failing = slow(async function loadThing() {
      clock.advance(150)
      throw boom
    })
    await expect(failing()).rejects.toBe(boom)
    expect(logged).toEqual([
      { name: 'loadThing', durationMs: 150, thresholdMs: 100, failed: true, err: boom },
    ])
  })

  it('validates its options', () => {
    expect(() => slowLog({ threshold: 'x' as never })).toThrow(TypeError)
    expect(() => slowLog({ logger: {} as never })).toThrow('Expected `logger` to be an object with a warn')
  })
})
