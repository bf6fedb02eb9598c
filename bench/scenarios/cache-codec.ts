import { jsonCodec, msgpackCodec } from '@hotpath/cache'
import { defineScenario } from '../lib/scenario'

const PER_ROUND = 20_000
const ROUNDS = 15

export default defineScenario(async () => {
  // What an L2 read decodes: the entry envelope around a typical API object.
  const now = Date.now()
  const value = {
    id: 42,
    name: 'gpt-4o',
    provider: 'openai',
    latencyMs: 420,
    enabled: true,
    regions: ['us-east-1', 'eu-west-1'],
    limits: { rpm: 10_000, tpm: 2_000_000 },
    description: 'General purpose model with vision and tool use',
  }
  const envelope = [value, now, now + 60_000, now + 3_660_000, 0, 0]
  const json = jsonCodec()
  const msgpack = await msgpackCodec()
  const text = json.encode(envelope) as string
  const bytes = Buffer.from(text)
  const packed = msgpack.encode(envelope)
  // The same value with a Date: tagged, so the decode walks it (and checks every object).
  const dated = json.encode([
    { ...value, updatedAt: new Date(now) },
    now,
    now + 60_000,
    now + 3_660_000,
    0,
    0,
  ])
  // The common hand-written guard: a reviver dropping prototype keys on every node.
  const guard = (key: string, v: unknown) =>
    key === '__proto__' || key === 'constructor' || key === 'prototype' ? undefined : v
  let sink: unknown
  const rows: [name: string, run: () => void][] = [
    ['JSON.parse (raw, no guard)', () => (sink = JSON.parse(text))],
    ['JSON.parse with a guarding reviver', () => (sink = JSON.parse(text, guard))],
    ['hotpath jsonCodec decode (string)', () => (sink = json.decode(text))],
    ['hotpath jsonCodec decode (bytes)', () => (sink = json.decode(bytes))],
    ['hotpath jsonCodec decode (with a Date: walked)', () => (sink = json.decode(dated))],
    ['hotpath msgpackCodec decode', () => (sink = msgpack.decode(packed))],
  ]
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!

  return {
    name: 'cache/codec',
    description: `Decode of one L2 entry (${bytes.length}-byte JSON, ${packed.length}-byte MessagePack): ${ROUNDS} rounds of ${PER_ROUND} decodes per row, rows in rotating order, median ns per decode`,
    measure: () => {
      const times = rows.map(() => [] as number[])
      for (let r = 0; r < ROUNDS; r++) {
        for (let k = 0; k < rows.length; k++) {
          const index = (r + k) % rows.length
          const run = rows[index]![1]
          const started = performance.now()
          for (let i = 0; i < PER_ROUND; i++) run()
          times[index]!.push(((performance.now() - started) * 1e6) / PER_ROUND)
        }
      }
      return rows.map(([name], index) => ({
        name,
        'median ns': Math.round(median(times[index]!)),
        'cost vs JSON.parse': Math.round((median(times[index]!) / median(times[0]!)) * 100) / 100,
      }))
    },
    teardown: () => {
      void sink
    },
  }
})
