import { createRegistry } from '@hotpath/metrics'
import prom from 'prom-client'
import { defineScenario } from '../lib/scenario'

export default defineScenario(() => {
  const SERIES = 1_000
  const buckets = [0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000]
  const registry = createRegistry()
  const latency = registry.histogram('http_request_duration', { unit: 'ms', labels: ['route'], buckets })
  const promRegistry = new prom.Registry()
  const promHistogram = new prom.Histogram({
    name: 'http_request_duration_milliseconds',
    help: 'latency',
    labelNames: ['route'],
    buckets,
    registers: [promRegistry],
  })
  for (let s = 0; s < SERIES; s++) {
    const route = `/route/${s}`
    const h = latency.with({ route })
    const p = promHistogram.labels({ route })
    for (let i = 0; i < 200; i++) {
      const v = Math.exp(3 + Math.random() * 2)
      h.record(v)
      p.observe(v)
    }
  }
  let size = 0

  return {
    name: 'metrics/scrape-1000',
    description: 'Prometheus text exposition of 1,000 labeled histogram series (200 values each)',
    baseline: 'prom-client registry.metrics()',
    time: 3_000,
    tasks: {
      'hotpath prometheus() (buckets + quantiles)': () => {
        size += registry.prometheus().length
      },
      'hotpath prometheusAsync() (yields every 100 series)': async () => {
        size += (await registry.prometheusAsync()).length
      },
      'hotpath prometheus() (buckets only)': () => {
        size += registry.prometheus({ quantiles: false }).length
      },
      'prom-client registry.metrics()': async () => {
        size += (await promRegistry.metrics()).length
      },
    },
    teardown: () => {
      if (size < 0) console.log(size)
    },
  }
})
