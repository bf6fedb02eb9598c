import { createPool } from '@hotpath/pool'
import genericPool from 'generic-pool'
import { Pool as TarnPool } from 'tarn'
import { defineScenario } from '../lib/scenario'

// HikariCP's "pool sizing" burst: 5 idle connections, 50 requests at once, 150 ms to connect,
// 2 ms per query. A pool that opens one connection per waiter ends with 50 connections; one that
// lets released connections serve the queue ends with a handful.
const CONNECT_MS = 150
const QUERY_MS = 2
const REQUESTS = 50

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

interface Subject {
  run(): Promise<void>
  connections(): number
  close(): Promise<void>
}

async function burst(name: string, subject: Subject) {
  const latencies: number[] = []
  const started = performance.now()
  await Promise.all(
    Array.from({ length: REQUESTS }, async () => {
      const t0 = performance.now()
      await subject.run()
      latencies.push(performance.now() - t0)
    }),
  )
  const total = performance.now() - started
  await sleep(CONNECT_MS * 2) // let creates still in flight land
  latencies.sort((a, b) => a - b)
  const row = {
    name,
    'final connections': subject.connections(),
    'burst done (ms)': Math.round(total),
    'p50 (ms)': Math.round(latencies[Math.floor(REQUESTS / 2)]!),
    'max (ms)': Math.round(latencies[REQUESTS - 1]!),
  }
  await subject.close()
  return row
}

async function hotpath(maxCreating: number): Promise<Subject> {
  const pool = createPool({
    create: async () => {
      await sleep(CONNECT_MS)
      return {}
    },
    min: 5,
    max: 50,
    maxCreating,
  })
  await pool.initialize()
  return {
    run: () => pool.use(() => sleep(QUERY_MS)),
    connections: () => pool.stats().size,
    close: () => pool.close(),
  }
}

async function generic(): Promise<Subject> {
  let size = 0
  const pool = genericPool.createPool(
    {
      create: async () => {
        await sleep(CONNECT_MS)
        size++
        return {}
      },
      destroy: async () => {
        size--
      },
    },
    { min: 5, max: 50 },
  )
  await pool.ready()
  return {
    run: () => pool.use(() => sleep(QUERY_MS)),
    connections: () => size,
    close: async () => {
      await pool.drain()
      await pool.clear()
    },
  }
}

async function tarn(): Promise<Subject> {
  let size = 0
  const pool = new TarnPool({
    create: async () => {
      await sleep(CONNECT_MS)
      size++
      return {}
    },
    destroy: () => {
      size--
    },
    min: 5,
    max: 50,
  })
  const warm = await Promise.all(Array.from({ length: 5 }, () => pool.acquire().promise))
  for (const resource of warm) pool.release(resource)
  return {
    run: async () => {
      const resource = await pool.acquire().promise
      await sleep(QUERY_MS)
      pool.release(resource)
    },
    connections: () => size,
    close: async () => {
      await pool.destroy()
    },
  }
}

export default defineScenario({
  name: 'pool/burst',
  description: `HikariCP burst: 5 idle, ${REQUESTS} concurrent requests, ${CONNECT_MS} ms connect, ${QUERY_MS} ms query`,
  measure: async () => [
    await burst('hotpath createPool (maxCreating 2, default)', await hotpath(2)),
    await burst('hotpath createPool (maxCreating 50: one create per waiter)', await hotpath(50)),
    await burst('generic-pool', await generic()),
    await burst('tarn', await tarn()),
  ],
})
