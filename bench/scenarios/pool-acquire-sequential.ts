import { createPool } from '@hotpath/pool'
import genericPool from 'generic-pool'
import { Pool as TarnPool } from 'tarn'
import { defineScenario } from '../lib/scenario'

const OPS = 1_000

export default defineScenario(async () => {
  const hotpath = createPool({ create: () => ({ id: 1 }), max: 10, min: 10 })
  await hotpath.initialize()
  const generic = genericPool.createPool(
    { create: async () => ({ id: 1 }), destroy: async () => {} },
    { max: 10, min: 10 },
  )
  await generic.ready()
  const tarn = new TarnPool({ create: async () => ({ id: 1 }), destroy: () => {}, min: 10, max: 10 })
  // fill tarn's idle list
  const warm = await Promise.all(Array.from({ length: 10 }, () => tarn.acquire().promise))
  for (const resource of warm) tarn.release(resource)
  return {
    name: 'pool/acquire-sequential',
    description: 'acquire + release of a dummy resource, one at a time, 10 idle resources (1,000 per run)',
    baseline: 'generic-pool',
    opsPerRun: OPS,
    tasks: {
      'hotpath createPool': async () => {
        for (let i = 0; i < OPS; i++) (await hotpath.acquire()).release()
      },
      'generic-pool': async () => {
        for (let i = 0; i < OPS; i++) await generic.release(await generic.acquire())
      },
      tarn: async () => {
        for (let i = 0; i < OPS; i++) tarn.release(await tarn.acquire().promise)
      },
    },
    teardown: async () => {
      await hotpath.close()
      await generic.drain()
      await generic.clear()
      await tarn.destroy()
    },
  }
})
