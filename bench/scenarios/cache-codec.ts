import { jsonCodec, msgpackCodec } from '@hotpath/cache'
import { defineScenario } from '../lib/scenario'

const OPS = 1_000

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
  // The common hand-written guard: a reviver dropping prototype keys on every node.
  const guard = (key: string, v: unknown) =>
    key === '__proto__' || key === 'constructor' || key === 'prototype' ? undefined : v
  let sink: unknown

  return {
    name: 'cache/codec',
    description: `Decode of one L2 entry (${bytes.length}-byte JSON, ${packed.length}-byte MessagePack), ${OPS} per run`,
    baseline: 'JSON.parse (raw, no guard)',
    opsPerRun: OPS,
    tasks: {
      'JSON.parse (raw, no guard)': () => {
        for (let i = 0; i < OPS; i++) sink = JSON.parse(text)
      },
      'JSON.parse with a guarding reviver': () => {
        for (let i = 0; i < OPS; i++) sink = JSON.parse(text, guard)
      },
      'hotpath jsonCodec decode (string)': () => {
        for (let i = 0; i < OPS; i++) sink = json.decode(text)
      },
      'hotpath jsonCodec decode (bytes)': () => {
        for (let i = 0; i < OPS; i++) sink = json.decode(bytes)
      },
      'hotpath msgpackCodec decode': () => {
        for (let i = 0; i < OPS; i++) sink = msgpack.decode(packed)
      },
    },
    teardown: () => {
      void sink
    },
  }
})
