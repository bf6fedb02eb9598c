import { openL2Fixture } from '../lib/cache-l2-fixture'
import { defineScenario } from '../lib/scenario'

const IN_FLIGHT = 64
const ROUNDS = 8

export default defineScenario(async () => {
  const f = await openL2Fixture('l2f', 1_000)
  const many = (get: (key: string) => Promise<unknown>) => async () => {
    for (let r = 0; r < ROUNDS; r++) await Promise.all(Array.from({ length: IN_FLIGHT }, () => get(f.pick())))
  }
  return {
    name: 'cache/l2-hit-64-in-flight',
    description: `L2 hit with L1 disabled, ~200 B JSON, ${IN_FLIGHT} gets in flight, ${ROUNDS} rounds per run`,
    baseline: 'bentocache get, 64 in flight',
    opsPerRun: ROUNDS * IN_FLIGHT,
    time: 2_000,
    tasks: {
      'ioredis, 64 in flight': many(f.rawGet),
      'ioredis auto-pipelining, 64 in flight': many(f.rawPipelinedGet),
      'hotpath get, 64 in flight': many((key) => f.hotpath.get(key)),
      'hotpath get auto-pipelining, 64 in flight': many((key) => f.hotpathPipelined.get(key)),
      'bentocache get, 64 in flight': many((key) => f.bento.get({ key })),
    },
    teardown: () => f.close(),
  }
})
