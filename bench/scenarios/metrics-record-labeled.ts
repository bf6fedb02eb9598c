import { createRegistry } from '@hotpath/metrics'
import prom from 'prom-client'
import { defineScenario } from '../lib/scenario'

export default defineScenario(() => {
  const N = 1 << 16
  const ms = new Float64Array(N)
  for (let i = 0; i < N; i++) ms[i] = Math.exp(3 + Math.random() * 2)
  const routes = ['/chat', '/models', '/users/:id', '/health']
  const labelSets = routes.map((route) => ({ method: 'GET', route, status: '200' }))
  const OPS = 1_000
  let k = 0

  const registry = createRegistry()
  const latency = registry.histogram('http_request_duration', {
    unit: 'ms',
    labels: ['method', 'route', 'status'],
  })
  const handles = labelSets.map((labels) => latency.with(labels))
  const promHistogram = new prom.Histogram({
    name: 'http_request_duration_ms',
    help: 'latency',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000],
    registers: [],
  })
  const promChildren = labelSets.map((labels) => promHistogram.labels(labels))

  return {
    name: 'metrics/record-labeled',
    description: 'histogram record with 3 labels over 4 label sets (1,000 records per call)',
    baseline: 'prom-client observe(labels, v)',
    opsPerRun: OPS,
    tasks: {
      'hotpath with() handle record': () => {
        for (let j = 0; j < OPS; j++) handles[j & 3]!.record(ms[k++ & (N - 1)]!)
      },
      'hotpath record(v, labels)': () => {
        for (let j = 0; j < OPS; j++) latency.record(ms[k++ & (N - 1)]!, labelSets[j & 3]!)
      },
      'prom-client labels() child observe': () => {
        for (let j = 0; j < OPS; j++) promChildren[j & 3]!.observe(ms[k++ & (N - 1)]!)
      },
      'prom-client observe(labels, v)': () => {
        for (let j = 0; j < OPS; j++) promHistogram.observe(labelSets[j & 3]!, ms[k++ & (N - 1)]!)
      },
    },
  }
})
