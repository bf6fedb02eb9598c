import { once } from 'node:events'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import express from 'express'
import Fastify from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { createRegistry, PROMETHEUS_CONTENT_TYPE, prometheusHandler, type Registry } from '../src/index'
import { type ParsedFamily, parse } from './parse-prometheus'

// parse-prometheus-text-format flattens labeled histograms and summaries into one unlabeled
// sample, so each series is parsed on its own: the family's header lines plus that series' lines.
function parseSeries(text: string, family: string, labelText: string): ParsedFamily['metrics'][number] {
  const lines = text.split('\n')
  const header = lines.filter((l) => l === `# TYPE ${family} histogram` || l === `# TYPE ${family} summary`)
  const body = lines.filter(
    (l) => !l.startsWith('#') && l.includes(`{${labelText}`) && /^[a-z_]+/.exec(l)![0].startsWith(family),
  )
  const own = body.filter((l) => {
    const name = /^[a-z_]+/.exec(l)![0]
    return [family, `${family}_bucket`, `${family}_sum`, `${family}_count`].includes(name)
  })
  const unlabeled = own.map((l) => l.replace(`{${labelText},`, '{').replace(`{${labelText}}`, ''))
  const parsed = parse([...header, ...unlabeled, ''].join('\n'))
  expect(parsed).toHaveLength(1)
  return parsed[0]!.metrics[0]!
}

function sample(): Registry {
  const registry = createRegistry({ prefix: 'app' })
  const latency = registry.histogram('http_request_duration', {
    unit: 'ms',
    labels: ['route'],
    help: 'Request latency',
    buckets: [10, 100, 1000],
  })
  const chat = latency.with({ route: '/chat' })
  for (const v of [5, 10, 50, 100, 500, 2000]) chat.record(v)
  latency.with({ route: 'say "hi"\\\n' }).record(1)
  registry.counter('http_requests', { labels: ['status'], help: 'Requests\nserved' }).inc(3, { status: 200 })
  registry.gauge('in_flight').set(2)
  return registry
}

describe('prometheus exposition', () => {
  it('is parsed back by a real parser: buckets, sums, counts, quantiles, escaped labels', () => {
    const text = sample().prometheus()
    const families = parse(text)
    const byName = new Map(families.map((f) => [f.name, f]))
    const hist = byName.get('app_http_request_duration_seconds')!
    expect(hist.type).toBe('HISTOGRAM')
    expect(hist.help).toBe('Request latency')
    const chat = parseSeries(text, 'app_http_request_duration_seconds', 'route="/chat"')
    expect(chat.buckets).toEqual({ '0.01': '2', '0.1': '4', '1': '5', '+Inf': '6' })
    expect(chat.count).toBe('6')
    expect(Number(chat.sum)).toBeCloseTo(2.665, 9)
    const odd = parseSeries(text, 'app_http_request_duration_seconds', 'route="say \\"hi\\"\\\\\\n"')
    expect(odd.count).toBe('1')
    expect(byName.get('app_http_request_duration_quantiles_seconds')!.type).toBe('SUMMARY')
    const q = parseSeries(text, 'app_http_request_duration_quantiles_seconds', 'route="/chat"').quantiles!
    expect(Number(q['0.5'])).toBeCloseTo(0.05, 3)
    expect(Number(q['0.999'])).toBe(2)
    const labelLine = text
      .split('\n')
      .find((l) => l.startsWith('app_http_request_duration_seconds_count{route="say'))!
    const roundTrip = parse(`# TYPE c counter\nc${labelLine.slice(labelLine.indexOf('{'))}\n`)
    expect(roundTrip[0]!.metrics[0]!.labels!.route).toBe('say "hi"\\\n')
    expect(byName.get('app_http_requests_total')!.metrics[0]).toEqual({
      labels: { status: '200' },
      value: '3',
    })
    expect(byName.get('app_http_requests_total')!.help).toBe('Requests\nserved')
    expect(byName.get('app_in_flight')!.metrics[0]!.value).toBe('2')
  })

  it('computes buckets at scrape time from the HDR counts (property over random values)', () => {
    const registry = createRegistry()
    const h = registry.histogram('v', { unit: 'ms', buckets: [1, 5, 25, 125, 625] })
    const values: number[] = []
    for (let i = 0; i < 5_000; i++) values.push(Math.round(Math.random() * 100_000) / 100)
    for (const v of values) h.record(v)
    const fam = parse(registry.prometheus({ quantiles: false, baseUnits: false })).find(
      (f) => f.name === 'v_milliseconds',
    )!
    for (const le of [1, 5, 25, 125, 625]) {
      const exact = values.filter((v) => v <= le).length
      const fuzzy = values.filter((v) => Math.abs(v - le) <= le * 0.01).length
      const got = Number(fam.metrics[0]!.buckets![String(le)])
      expect(Math.abs(got - exact)).toBeLessThanOrEqual(fuzzy)
    }
    expect(parse(registry.prometheus({ quantiles: false })).map((f) => f.name)).toEqual(['v_seconds'])
  })

  it('prometheusAsync renders the same text while yielding to the event loop between chunks', async () => {
    const registry = createRegistry()
    const h = registry.histogram('lat', { labels: ['route'] })
    const c = registry.counter('hits', { labels: ['route'] })
    for (let i = 0; i < 1_000; i++) {
      h.with({ route: `/r/${i}` }).record(i + 1)
      c.with({ route: `/r/${i}` }).inc(i)
    }
    let ticks = 0
    let running = true
    const spin = () => {
      ticks++
      if (running) setImmediate(spin)
    }
    setImmediate(spin)
    const text = await registry.prometheusAsync()
    running = false
    expect(text).toBe(registry.prometheus())
    // 2,000 series in chunks of 100: the loop ran between chunks
    expect(ticks).toBeGreaterThanOrEqual(15)
  })

  it('shows the overflow series like any other', () => {
    const registry = createRegistry()
    const c = registry.counter('per_user', { labels: ['user'], maxSeries: 2 })
    for (const u of ['a', 'b', 'c', 'd']) c.inc(1, { user: u })
    const fam = parse(registry.prometheus())[0]!
    expect(fam.metrics.map((m) => [m.labels!.user, m.value])).toEqual([
      ['a', '1'],
      ['b', '1'],
      ['__overflow__', '2'],
    ])
  })
})

describe('prometheusHandler on real servers', () => {
  const closers: Array<() => Promise<unknown>> = []
  afterEach(async () => {
    while (closers.length) await closers.pop()!()
  })

  async function scrape(port: number, path = '/metrics') {
    const res = await fetch(`http://127.0.0.1:${port}${path}`)
    return { type: res.headers.get('content-type'), body: await res.text(), status: res.status }
  }

  it('node:http', async () => {
    const server = http.createServer(prometheusHandler(sample()))
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    closers.push(() => new Promise((r) => server.close(r)))
    const { type, body, status } = await scrape((server.address() as AddressInfo).port)
    expect(status).toBe(200)
    expect(type).toBe(PROMETHEUS_CONTENT_TYPE)
    expect(parse(body).length).toBe(4)
  })

  it('Express', async () => {
    const app = express()
    app.get('/metrics', prometheusHandler(sample()))
    const server = app.listen(0, '127.0.0.1')
    await once(server, 'listening')
    closers.push(() => new Promise((r) => server.close(r)))
    const { type, body } = await scrape((server.address() as AddressInfo).port)
    expect(type).toBe(PROMETHEUS_CONTENT_TYPE)
    expect(parse(body).map((f) => f.name)).toContain('app_http_requests_total')
  })

  it('Fastify', async () => {
    const app = Fastify()
    app.get('/metrics', prometheusHandler(sample()))
    await app.listen({ port: 0, host: '127.0.0.1' })
    closers.push(() => app.close())
    const { type, body } = await scrape((app.server.address() as AddressInfo).port)
    expect(type).toBe(PROMETHEUS_CONTENT_TYPE)
    expect(parse(body).map((f) => f.name)).toContain('app_in_flight')
  })
})
