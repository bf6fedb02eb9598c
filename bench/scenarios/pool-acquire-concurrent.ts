import { createPool } from '@hotpath/pool'
import genericPool from 'generic-pool'
import { Pool as TarnPool } from 'tarn'
import { defineScenario } from '../lib/scenario'

const OPS = 1_600
const WORKERS = 16
const PER_WORKER = OPS / WORKERS

async function run(once: () => Promise<void>): Promise<void> {
  const workers: Promise<void>[] = []
  for (let w = 0; w < WORKERS; w++) {
    workers.push(
      (async () => {
        for (let i = 0; i < PER_WORKER; i++) await once()
      })(),
    )
  }
  await Promise.all(workers)
}

export default defineScenario(async () => {
  const hotpath = createPool({ create: () => ({ id: 1 }), max: 10, min: 10 })
  await hotpath.initialize()
  const generic = genericPool.createPool(
    { create: async () => ({ id: 1 }), destroy: async () => {} },
    { max: 10, min: 10 },
  )
  await generic.ready()
  const tarn = new TarnPool({ create: async () => ({ id: 1 }), destroy: () => {}, min: 10, max: 10 })
  const warm = await Promise.all(Array.from({ length: 10 }, () => tarn.acquire().promise))
  for (const resource of warm) tarn.release(resource)
  const hotpathOnce = async () => {
    const lease = await hotpath.acquire()
    await Promise.resolve()
    lease.release()
  }
  const genericOnce = async () => {
    const resource = await generic.acquire()
    await Promise.resolve()
    await generic.release(resource)
  }
  const tarnOnce = async () => {
    const resource = await tarn.acquire().promise
    await Promise.resolve()
    tarn.release(resource)
  }
  return {
    name: 'pool/acquire-concurrent',
    description: 'acquire + release by 16 concurrent callers on a pool of max 10 (1,600 per run)',
    baseline: 'generic-pool',
    opsPerRun: OPS,
    tasks: {
      'hotpath createPool': () => run(hotpathOnce),
      'generic-pool': () => run(genericOnce),
      tarn: () => run(tarnOnce),
    },
    teardown: async () => {
      await hotpath.close()
      await generic.drain()
      await generic.clear()
      await tarn.destroy()
    },
  }
})
