import { IDLE_EXIT_MS, runScript } from '@hotpath/test-utils'
import { describe, expect, it } from 'vitest'

const packageDir = new URL('..', import.meta.url)
const imports = {
  '@hotpath/concurrency': ['Batcher', 'BoundedQueue', 'Mutex', 'RateLimiter', 'RWLock', 'Semaphore'],
}

/**
 * Runs `body` with plain `node` on the built package, as an ES module or as CommonJS. `mark()`
 * notes the time of the script's last await; `exitGap` is the time from it to the exit, on the
 * child's own clock.
 */
function run(kind: 'esm' | 'cjs', body: string) {
  return runScript(packageDir, kind, body, { imports, timeout: 15_000 })
}

describe.each(['esm', 'cjs'] as const)('process lifetime (%s, plain node on dist/)', (kind) => {
  it('a Batcher holding items until its flush delay keeps the process alive', async () => {
    const result = await run(
      kind,
      `const batcher = new Batcher(async (keys) => keys.map((k) => k * 10), { maxDelay: 300 })
       mark()
       batcher.load(1).then((v) => console.log('flushed', v))
       batcher.load(2).then((v) => console.log('flushed', v))`,
    )
    expect(result.code).toBe(0)
    expect(result.lines.slice(0, 2)).toEqual(['flushed 10', 'flushed 20'])
    expect(result.exitGap).toBeGreaterThanOrEqual(290)
  })

  it('a queued Semaphore task with a timeout keeps the process alive and gets its typed error', async () => {
    const result = await run(
      kind,
      `const sem = new Semaphore({ permits: 1 })
       await sem.acquire() // held and never released: nothing else keeps the process alive
       sem.run(() => 'ran', { timeout: 250 }).then(console.log, (error) => console.log(error.code, error.name))`,
    )
    expect(result.code).toBe(0)
    expect(result.lines[0]).toBe('E_SEMAPHORE_TIMEOUT SemaphoreTimeoutError')
  })

  it('BoundedQueue waits with a timeout keep the process alive; a take gets what a later push brings', async () => {
    const result = await run(
      kind,
      `const queue = new BoundedQueue({ capacity: 1, overflow: 'wait' })
       queue.take({ timeout: 200 }).then(console.log, (error) => console.log('take', error.code))
       const full = new BoundedQueue({ capacity: 1, overflow: 'wait' })
       await full.push('a')
       full.push('b', { timeout: 250 }).then(console.log, (error) => console.log('push', error.code))
       const later = new BoundedQueue({ capacity: 1 })
       later.take().then((item) => console.log('took', item))
       setTimeout(() => later.push('c'), 300)`,
    )
    expect(result.code).toBe(0)
    expect(result.lines.slice(0, 3)).toEqual([
      'take E_SEMAPHORE_TIMEOUT',
      'push E_SEMAPHORE_TIMEOUT',
      'took c',
    ])
  })

  it(`idle primitives let the process exit within ${IDLE_EXIT_MS} ms of the last await (the child's own clock)`, async () => {
    const result = await run(
      kind,
      `const sem = new Semaphore({ permits: 2, timeout: '10m' })
       await sem.run(() => 1)
       await sem.run(() => 1, { taskTimeout: '10m' })
       await sem.onIdle()
       const held = await sem.acquire({ weight: 2 })
       const queued = sem.run(() => 'queued', { timeout: '10m' })
       held.release()
       await queued
       const limiter = new RateLimiter({ limit: 1, window: '1h' })
       limiter.consume('a'); limiter.consume('a')
       const batcher = new Batcher(async (keys) => keys, { maxDelay: '10m', maxBatchSize: 2 })
       await Promise.all([batcher.load(1), batcher.load(2)])
       const slow = new Batcher(async (keys) => keys, { maxDelay: '10m' })
       const pending = slow.load(3)
       await slow.flush()
       await pending
       const queue = new BoundedQueue({ capacity: 1, timeout: '10m' })
       const taken = queue.take()
       await queue.push('x')
       await taken
       const mutex = new Mutex({ timeout: '10m' })
       await Promise.all([mutex.run(() => 1), mutex.run(() => 2)])
       const lock = new RWLock({ timeout: '10m' })
       await Promise.all([lock.read(() => 1), lock.write(() => 2)])
       console.log('done')
       mark()`,
    )
    expect(result.code).toBe(0)
    expect(result.lines[0]).toBe('done')
    expect(result.exitGap).toBeLessThanOrEqual(IDLE_EXIT_MS)
  })

  it(`a wait without a timeout does not by itself keep the process alive (exit within ${IDLE_EXIT_MS} ms)`, async () => {
    const result = await run(
      kind,
      `const sem = new Semaphore({ permits: 1 })
       await sem.acquire() // never released, and no work of the holder keeps the process alive
       sem.run(() => console.log('ran'))
       const queue = new BoundedQueue({ capacity: 1 })
       queue.take().then(() => console.log('took'))
       mark()`,
    )
    expect(result.code).toBe(0)
    expect(result.lines).toEqual([])
    expect(result.exitGap).toBeLessThanOrEqual(IDLE_EXIT_MS)
  })
})
