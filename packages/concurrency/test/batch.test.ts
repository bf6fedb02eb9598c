import { getEventListeners } from 'node:events'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { Batcher, batchExecute, mapConcurrent } from '../src/index'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('batchExecute', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance', 'Date'] })
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it("'settle' keeps input order, reports each outcome with its duration, respects concurrency", async () => {
    let running = 0
    let peak = 0
    const run = batchExecute(
      [30, 10, 20, 5, 15],
      async (ms, { index }) => {
        running++
        peak = Math.max(peak, running)
        await sleep(ms)
        running--
        if (index === 2) throw new Error('bad')
        return ms * 2
      },
      { concurrency: 2 },
    )
    await vi.advanceTimersByTimeAsync(100)
    const results = await run
    expect(peak).toBe(2)
    expect(results.map((r) => r.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'rejected',
      'fulfilled',
      'fulfilled',
    ])
    expect(results[0]).toMatchObject({ value: 60, durationMs: 30 })
    expect(results[2]).toMatchObject({ reason: new Error('bad'), durationMs: 20 })
  })

  it('runs batches one after another when batchSize is set', async () => {
    const started: number[] = []
    const run = batchExecute(
      [1, 2, 3, 4, 5],
      async (n) => {
        started.push(n)
        await sleep(n === 1 ? 50 : 1)
        return n
      },
      { concurrency: 5, batchSize: 2 },
    )
    await vi.advanceTimersByTimeAsync(10)
    expect(started).toEqual([1, 2])
    await vi.advanceTimersByTimeAsync(100)
    expect((await run).map((r) => r.status === 'fulfilled' && r.value)).toEqual([1, 2, 3, 4, 5])
  })

  it("'fail-fast' rejects on the first error, aborts running items and starts no more", async () => {
    const aborted: number[] = []
    const started: number[] = []
    const run = batchExecute(
      [1, 2, 3, 4, 5, 6],
      async (n, { signal }) => {
        started.push(n)
        await sleep(n * 10)
        if (signal.aborted) aborted.push(n)
        if (n === 2) throw new Error('two failed')
        return n
      },
      { concurrency: 3, mode: 'fail-fast' },
    )
    const outcome = run.catch((e: Error) => e.message)
    await vi.advanceTimersByTimeAsync(25)
    expect(await outcome).toBe('two failed')
    expect(started).toEqual([1, 2, 3, 4])
    await vi.advanceTimersByTimeAsync(100)
    expect(started).toEqual([1, 2, 3, 4])
    expect(aborted.sort()).toEqual([3, 4])
  })

  it("'fail-fast' resolves with the values when all succeed", async () => {
    const values = await batchExecute([1, 2, 3], (n) => n + 1, { mode: 'fail-fast' })
    expect(values).toEqual([2, 3, 4])
  })

  it('an outer abort rejects at once and leaves no listener', async () => {
    const controller = new AbortController()
    const run = batchExecute([1, 2, 3], () => sleep(1_000), { concurrency: 1, signal: controller.signal })
    const outcome = run.catch((e: unknown) => e)
    await vi.advanceTimersByTimeAsync(10)
    controller.abort(new Error('stop'))
    expect(await outcome).toEqual(new Error('stop'))
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0)
    await expect(batchExecute([1], (n) => n, { signal: controller.signal })).rejects.toThrow('stop')
  })

  it('validates options', async () => {
    expect(() => batchExecute([1], (n) => n, { concurrency: 0 })).toThrow(
      'Expected `concurrency` to be an integer >= 1, got `0` (number)',
    )
    expect(() => batchExecute([1], (n) => n, { mode: 'all' as never })).toThrow(TypeError)
  })
})

describe('mapConcurrent', () => {
  it('yields in order with bounded concurrency and reads the source lazily (backpressure)', async () => {
    let read = 0
    async function* source() {
      for (let i = 0; i < 100; i++) {
        read++
        yield i
      }
    }
    let running = 0
    let peak = 0
    const seen: number[] = []
    for await (const value of mapConcurrent(
      source(),
      async (n) => {
        running++
        peak = Math.max(peak, running)
        await new Promise((r) => setImmediate(r))
        running--
        return n * 2
      },
      { concurrency: 4 },
    )) {
      seen.push(value)
      // The consumer is slow: the source must never run far ahead of it.
      expect(read - seen.length).toBeLessThanOrEqual(4)
      if (seen.length === 10) await new Promise((r) => setTimeout(r, 5))
    }
    expect(seen).toEqual(Array.from({ length: 100 }, (_, i) => i * 2))
    expect(peak).toBeLessThanOrEqual(4)
  })

  it('yields in completion order with ordered: false', async () => {
    const seen: number[] = []
    for await (const v of mapConcurrent(
      [30, 10, 20],
      async (ms) => {
        await new Promise((r) => setTimeout(r, ms))
        return ms
      },
      { concurrency: 3, ordered: false },
    )) {
      seen.push(v)
    }
    expect(seen).toEqual([10, 20, 30])
  })

  it('throws the first error, aborts the rest and closes the source', async () => {
    let closed = false
    const aborted: number[] = []
    function* source() {
      try {
        for (let i = 0; ; i++) yield i
      } finally {
        closed = true
      }
    }
    const seen: number[] = []
    const iterate = async () => {
      for await (const v of mapConcurrent(
        source(),
        async (n, { signal }) => {
          signal.addEventListener('abort', () => aborted.push(n))
          await new Promise((r) => setTimeout(r, n === 3 ? 1 : 20))
          if (n === 3) throw new Error('three')
          return n
        },
        { concurrency: 3 },
      )) {
        seen.push(v)
      }
    }
    await expect(iterate()).rejects.toThrow('three')
    expect(seen).toEqual([0, 1, 2])
    expect(closed).toBe(true)
    expect(aborted.length).toBeGreaterThan(0)
  })

  it('stops on break and on abort', async () => {
    let closed = false
    function* source() {
      try {
        for (let i = 0; ; i++) yield i
      } finally {
        closed = true
      }
    }
    for await (const v of mapConcurrent(source(), (n) => n, { concurrency: 2 })) if (v === 5) break
    expect(closed).toBe(true)
    const controller = new AbortController()
    const iterate = async () => {
      for await (const v of mapConcurrent([1, 2, 3, 4], (n) => n, {
        signal: controller.signal,
        concurrency: 1,
      })) {
        if (v === 2) controller.abort(new Error('enough'))
      }
    }
    await expect(iterate()).rejects.toThrow('enough')
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0)
  })
})

describe('Batcher', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance', 'Date'] })
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('coalesces loads of one tick into one deduplicated batch', async () => {
    const calls: string[][] = []
    const users = new Batcher(async (ids: string[]) => {
      calls.push(ids)
      return ids.map((id) => ({ id }))
    })
    const results = await Promise.all([users.load('a'), users.load('b'), users.load('a')])
    expect(calls).toEqual([['a', 'b']])
    expect(results).toEqual([{ id: 'a' }, { id: 'b' }, { id: 'a' }])
    expect(users.stats()).toMatchObject({ batches: 1, keys: 2, deduped: 1, pending: 0 })
  })

  it('dispatches by maxBatchSize at once and by maxDelay otherwise', async () => {
    const calls: number[][] = []
    const batcher = new Batcher(
      async (keys: number[]) => {
        calls.push(keys)
        return keys
      },
      { maxBatchSize: 3, maxDelay: '10ms' },
    )
    const loads = [1, 2, 3, 4].map((k) => batcher.load(k))
    expect(calls).toEqual([[1, 2, 3]])
    await vi.advanceTimersByTimeAsync(9)
    expect(calls).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(calls).toEqual([[1, 2, 3], [4]])
    expect(await Promise.all(loads)).toEqual([1, 2, 3, 4])
  })

  it('rejects single keys given an Error, whole batches on a throw or a wrong length', async () => {
    const perKey = new Batcher(async (keys: number[]) => keys.map((k) => (k % 2 ? new Error(`odd ${k}`) : k)))
    const outcomes = await Promise.allSettled([perKey.load(1), perKey.load(2)])
    expect(outcomes).toEqual([
      { status: 'rejected', reason: new Error('odd 1') },
      { status: 'fulfilled', value: 2 },
    ])
    const failing = new Batcher(async (_keys: number[]) => {
      throw new Error('db down')
    })
    await expect(Promise.all([failing.load(1), failing.load(2)])).rejects.toThrow('db down')
    expect(failing.stats().failedBatches).toBe(1)
    const wrong = new Batcher(async (_keys: number[]) => [1])
    await expect(Promise.all([wrong.load(1), wrong.load(2)])).rejects.toThrow(/array of 2 results/)
    const byMap = new Batcher(async (keys: string[]) => new Map(keys.map((k) => [k, k.toUpperCase()])))
    expect(await byMap.loadMany(['x', 'y'])).toEqual(['X', 'Y'])
  })

  it('write batching: add() + close() loses nothing and refuses later adds', async () => {
    const written: number[] = []
    const writes = new Batcher(
      async (rows: number[]) => {
        await sleep(5)
        written.push(...rows)
      },
      { maxBatchSize: 4, maxDelay: '1s', dedupe: false, concurrency: 1 },
    )
    const adds = Array.from({ length: 10 }, (_, i) => writes.add(i % 3))
    const closing = writes.close()
    await vi.advanceTimersByTimeAsync(50)
    await closing
    await Promise.all(adds)
    expect(written).toEqual(Array.from({ length: 10 }, (_, i) => i % 3))
    expect(writes.stats()).toMatchObject({ batches: 3, pending: 0, inFlight: 0 })
    await expect(writes.add(1)).rejects.toMatchObject({ code: 'E_CLOSED' })
  })

  it('bounds the pending keys', async () => {
    const batcher = new Batcher(async (keys: number[]) => keys, {
      maxPending: 2,
      maxDelay: 100,
      dedupe: false,
    })
    const a = batcher.load(1)
    const b = batcher.load(2)
    await expect(batcher.load(3)).rejects.toMatchObject({ code: 'E_QUEUE_FULL' })
    await batcher.flush()
    expect(await Promise.all([a, b])).toEqual([1, 2])
  })
})
