import { Semaphore } from '@hotpath/concurrency'
import { describe, expectTypeOf, it } from 'vitest'
import {
  type Advice,
  advise,
  type CapacityPlan,
  type Collector,
  type Counter,
  type CounterSeries,
  capacity,
  collect,
  createRegistry,
  fitUsl,
  type Gauge,
  type GaugeSeries,
  type Histogram,
  type HistogramSeries,
  type HistogramStats,
  type LabelValues,
  Registry,
  type RegistrySnapshot,
  slowLog,
  type UslModel,
} from '../src/index'
import { type OtelBridge, otelBridge } from '../src/otel'

describe('metric labels', () => {
  it('labels declared at creation type the label values', () => {
    const registry = createRegistry()
    expectTypeOf(registry).toEqualTypeOf<Registry>()
    const requests = registry.counter('http_requests_total', { labels: ['route', 'status'] })
    expectTypeOf(requests).toEqualTypeOf<Counter<'route' | 'status'>>()
    requests.inc(1, { route: '/chat', status: 200 })
    expectTypeOf(requests.with({ route: '/chat', status: 500 })).toEqualTypeOf<CounterSeries>()
    // @ts-expect-error a declared label is missing
    requests.inc(1, { route: '/chat' })
    // @ts-expect-error an undeclared label
    requests.inc(1, { route: '/chat', status: 200, method: 'GET' })
    // @ts-expect-error label values are strings, numbers or booleans
    requests.with({ route: '/chat', status: null })
  })

  it('gauges and histograms', () => {
    const registry = new Registry({ prefix: 'app_' })
    const inFlight = registry.gauge('in_flight', { labels: ['pool'] })
    expectTypeOf(inFlight).toEqualTypeOf<Gauge<'pool'>>()
    expectTypeOf(inFlight.with({ pool: 'db' })).toEqualTypeOf<GaugeSeries>()
    const latency = registry.histogram('latency_ms', { labels: ['route'], highest: 60_000 })
    expectTypeOf(latency).toEqualTypeOf<Histogram<'route'>>()
    expectTypeOf(latency.startTimer({ route: '/' })).toEqualTypeOf<() => number>()
    expectTypeOf(latency.with({ route: '/' })).toEqualTypeOf<HistogramSeries>()
    expectTypeOf(latency.with({ route: '/' }).stats()).toEqualTypeOf<HistogramStats>()
    // @ts-expect-error misspelled option
    registry.histogram('x', { highestValue: 10 })
  })

  it('unlabeled metrics take no label values', () => {
    const registry = createRegistry()
    const plain = registry.counter('jobs_total')
    expectTypeOf(plain).toEqualTypeOf<Counter<never>>()
    plain.inc()
    // @ts-expect-error no label was declared
    plain.inc(1, { route: '/' })
    expectTypeOf<LabelValues<'a' | 'b'>>().toEqualTypeOf<{
      readonly a: string | number | boolean
      readonly b: string | number | boolean
    }>()
  })
})

describe('collection and analysis', () => {
  it('collect takes metrics sources', () => {
    const registry = createRegistry()
    const collector = collect(registry, new Semaphore({ permits: 2 }))
    expectTypeOf(collector).toEqualTypeOf<Collector>()
    expectTypeOf(registry.collect()).toEqualTypeOf<Collector>()
    // @ts-expect-error a plain object is not a metrics source
    collect(registry, { stats: () => ({}) })
  })

  it('snapshot, advise, capacity, USL', () => {
    const registry = createRegistry()
    expectTypeOf(registry.snapshot({ view: 'interval' })).toEqualTypeOf<RegistrySnapshot>()
    expectTypeOf(advise(registry.snapshot())).toEqualTypeOf<Advice[]>()
    const plan = capacity([{ concurrency: 1, rps: 100, p50: 1, p95: 2, p99: 3, errors: 0 }], {
      targetP99: '250ms',
    })
    expectTypeOf(plan).toEqualTypeOf<CapacityPlan>()
    expectTypeOf(plan.knee).toEqualTypeOf<{ concurrency: number; rps: number; p99: number } | null>()
    expectTypeOf(plan.usl).toEqualTypeOf<UslModel>()
    expectTypeOf(fitUsl([{ concurrency: 1, rps: 10 }])).toEqualTypeOf<UslModel>()
    // @ts-expect-error a sample needs its percentiles
    capacity([{ concurrency: 1, rps: 100 }])
    // @ts-expect-error a duration
    capacity([], { targetP99: 'fast' })
  })
})

describe('slowLog', () => {
  it('wraps a function keeping its parameters and result', () => {
    const wrap = slowLog({ threshold: '500ms' })
    const find = wrap(async (id: string, limit: number) => [id, limit] as const)
    expectTypeOf(find).toEqualTypeOf<(id: string, limit: number) => Promise<readonly [string, number]>>()
    expectTypeOf(wrap(() => 1)).toEqualTypeOf<() => Promise<number>>()
    expectTypeOf(wrap(() => ({}) as PromiseLike<string>)).toEqualTypeOf<() => Promise<string>>()
  })
})

describe('otel subpath', () => {
  it('otelBridge', () => {
    expectTypeOf(otelBridge).parameter(0).toEqualTypeOf<Registry>()
    expectTypeOf(otelBridge).returns.toEqualTypeOf<OtelBridge>()
  })
})
