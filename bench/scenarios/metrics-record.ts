import { createHistogram } from 'node:perf_hooks'
import { createRegistry } from '@hotpath/metrics'
import * as hdr from 'hdr-histogram-js'
import prom from 'prom-client'
import { defineScenario } from '../lib/scenario'

export default defineScenario(() => {
  const N = 1 << 16
  const ms = new Float64Array(N)
  for (let i = 0; i < N; i++) ms[i] = Math.exp(3 + Math.random() * 2) // 20–150 ms, log-normal-ish
  const micros = ms.map((v) => Math.round(v * 1000)) // integer µs for the integer-only recorders
  const OPS = 1_000
  let k = 0

  const h = createRegistry().histogram('latency', { unit: 'ms' }).with({})
  const h3 = createRegistry().histogram('latency', { unit: 'ms', significantDigits: 3 }).with({})
  const raw = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 3.6e9,
    numberOfSignificantValueDigits: 3,
    bitBucketSize: 64,
  })
  hdr.initWebAssemblySync()
  const wasm = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 3.6e9,
    numberOfSignificantValueDigits: 3,
    useWebAssembly: true,
  })
  const native = createHistogram()
  const promHistogram = new prom.Histogram({ name: 'latency', help: 'latency', registers: [] })

  return {
    name: 'metrics/record',
    description: 'histogram record of pre-generated latencies, no labels (1,000 records per call)',
    baseline: 'hdr-histogram-js recordValue (JS)',
    opsPerRun: OPS,
    tasks: {
      'hotpath record (2 digits)': () => {
        for (let j = 0; j < OPS; j++) h.record(ms[k++ & (N - 1)]!)
      },
      'hotpath record (3 digits)': () => {
        for (let j = 0; j < OPS; j++) h3.record(ms[k++ & (N - 1)]!)
      },
      'hdr-histogram-js recordValue (JS)': () => {
        for (let j = 0; j < OPS; j++) raw.recordValue(micros[k++ & (N - 1)]!)
      },
      'hdr-histogram-js recordValue (WASM)': () => {
        for (let j = 0; j < OPS; j++) wasm.recordValue(micros[k++ & (N - 1)]!)
      },
      'perf_hooks createHistogram record': () => {
        for (let j = 0; j < OPS; j++) native.record(micros[k++ & (N - 1)]!)
      },
      'prom-client observe': () => {
        for (let j = 0; j < OPS; j++) promHistogram.observe(ms[k++ & (N - 1)]!)
      },
    },
    teardown: () => {
      wasm.destroy()
    },
  }
})
