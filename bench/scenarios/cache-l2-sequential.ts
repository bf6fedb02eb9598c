import { openL2Fixture } from '../lib/cache-l2-fixture'
import { defineScenario } from '../lib/scenario'

const SEQUENTIAL = 200

export default defineScenario(async () => {
  const f = await openL2Fixture('l2s', 1_000)
  let sink: unknown
  const sequential = (get: (key: string) => Promise<unknown>) => async () => {
    for (let i = 0; i < SEQUENTIAL; i++) sink = await get(f.pick())
  }
  return {
    name: 'cache/l2-hit-sequential',
    description: `L2 hit with L1 disabled, ~200 B JSON, ${SEQUENTIAL} sequential gets per run`,
    baseline: 'ioredis get + JSON.parse, sequential',
    opsPerRun: SEQUENTIAL,
    time: 2_000,
    tasks: {
      'ioredis get + JSON.parse, sequential': sequential(f.rawGet),
      'hotpath get, sequential': sequential((key) => f.hotpath.get(key)),
      'bentocache get, sequential': sequential((key) => f.bento.get({ key })),
    },
    teardown: async () => {
      void sink
      await f.close()
    },
  }
})
