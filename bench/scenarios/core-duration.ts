import { parseDuration } from '@hotpath/core'
import ms from 'ms'
import { defineScenario } from '../lib/scenario'

export default defineScenario(() => {
  const units = ['250ms', '1.5s', '5m', '1h', '7d', '30s', '100ms', '2h']
  const inputs = Array.from({ length: 1_024 }, (_, i) => units[i % units.length]!)
  let sink = 0
  return {
    name: 'core/duration-parse',
    description: 'parse 1,024 pre-generated duration strings',
    baseline: 'ms',
    opsPerRun: inputs.length,
    tasks: {
      'hotpath parseDuration': () => {
        for (const input of inputs) sink += parseDuration(input)
      },
      ms: () => {
        for (const input of inputs) sink += ms(input as ms.StringValue)
      },
    },
    teardown: () => {
      if (sink < 0) console.log(sink)
    },
  }
})
