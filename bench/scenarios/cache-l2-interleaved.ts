import { openL2Fixture } from '../lib/cache-l2-fixture'
import { defineScenario } from '../lib/scenario'

const PER_ROUND = 2_048
const IN_FLIGHT = 64
const ROUNDS = 9

/**
 * L2 hits with L1 disabled, every row alternating round by round and medians compared: on a shared
 * machine this keeps all sides under the same load, which separate tinybench tasks do not (Redis
 * round trips there swing by 3× between tasks).
 */
export default defineScenario(async () => {
  const f = await openL2Fixture('l2i', 1_000)
  let sink: unknown
  const sequential = (get: (key: string) => Promise<unknown>) => async () => {
    for (let i = 0; i < PER_ROUND; i++) sink = await get(f.pick())
  }
  const inFlight = (get: (key: string) => Promise<unknown>) => async () => {
    for (let i = 0; i < PER_ROUND; i += IN_FLIGHT)
      sink = await Promise.all(Array.from({ length: IN_FLIGHT }, () => get(f.pick())))
  }
  const rows: [name: string, baseline: number, run: () => Promise<void>][] = [
    ['sequential: ioredis get + JSON.parse', 0, sequential(f.rawGet)],
    ['sequential: hotpath get', 0, sequential((key) => f.hotpath.get(key))],
    ['sequential: bentocache get', 0, sequential((key) => f.bento.get({ key }))],
    [`${IN_FLIGHT} in flight: ioredis get + JSON.parse`, 3, inFlight(f.rawGet)],
    [`${IN_FLIGHT} in flight: hotpath get`, 3, inFlight((key) => f.hotpath.get(key))],
    [`${IN_FLIGHT} in flight: bentocache get`, 3, inFlight((key) => f.bento.get({ key }))],
  ]
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!
  return {
    name: 'cache/l2-hit-interleaved',
    description: `L2 hit, L1 disabled, ~200 B JSON: ${ROUNDS} alternating rounds of ${PER_ROUND} gets per row (sequential, then ${IN_FLIGHT} in flight), median µs per get`,
    measure: async () => {
      const times = rows.map(() => [] as number[])
      for (let r = 0; r < ROUNDS; r++) {
        for (const [index, [, , run]] of rows.entries()) {
          const started = performance.now()
          await run()
          times[index]!.push(((performance.now() - started) * 1000) / PER_ROUND)
        }
      }
      return rows.map(([name, baseline], index) => ({
        name,
        'median µs': Math.round(median(times[index]!) * 100) / 100,
        'cost vs the ioredis row': Math.round((median(times[index]!) / median(times[baseline]!)) * 100) / 100,
      }))
    },
    teardown: async () => {
      void sink
      await f.close()
    },
  }
})
