import { createHook } from 'node:async_hooks'
import { getTimerService } from '@hotpath/core'
import { afterEach, describe, expect, it } from 'vitest'
import { createCache } from '../src/index'
import { expectTimeoutAfter, hangingGet, pendingEntries, restoreTime, settle, useManualTime } from './helpers'
import { MemoryStore } from './memory-store'

// A file of its own: it checks the timer service's ref state, which an entry another test leaves
// pending (a call on a store that never answers) would decide.

describe('the L2 deadline between calls', () => {
  afterEach(restoreTime)

  it('sequential L2 calls arm one timer, not one each; the idle entry is unref-d and leaves when due', async () => {
    let armed = 0
    const time = useManualTime((timers) => ({
      setTimeout(callback, delay) {
        armed++
        return timers.setTimeout(callback, delay)
      },
      clearTimeout: (handle) => timers.clearTimeout(handle),
    }))
    const store = new MemoryStore()
    const cache = createCache({ l2: store, l2Timeout: 300, l1: false })
    const idle = pendingEntries()
    await cache.set('k', 1)
    for (let i = 0; i < 10; i++) {
      expect(await cache.get('k')).toBe(1)
      time.advance(10)
    }
    expect(armed).toBe(1)
    expect(pendingEntries()).toBe(idle + 1)
    expect(getTimerService().stats().timerReferenced).toBe(false)
    time.advance(200)
    await settle()
    expect(pendingEntries()).toBe(idle)
    expect(cache.stats().l2.timeouts).toBe(0)
    await cache.close()
  })

  it('a call made while the idle entry waits still times out at its own deadline', async () => {
    const time = useManualTime()
    const store = new MemoryStore()
    const cache = createCache({ l2: store, l2Timeout: 300, l1: false })
    const idle = pendingEntries()
    await cache.set('k', 1)
    // The entry is now due at 300, for the answered set.
    time.advance(100)
    const hanging = hangingGet(cache, store, 'k')
    await settle()
    expect(getTimerService().stats().timerReferenced).toBe(true)
    // Past the idle entry's due time (300) and on to the call's own deadline (100 + 300).
    await expectTimeoutAfter(time, hanging, 300)
    expect(cache.stats().l2.timeouts).toBe(1)
    expect(pendingEntries()).toBe(idle)
    await cache.close()
  })

  it('close() takes the idle L2 entry off the timer service', async () => {
    useManualTime()
    const store = new MemoryStore()
    const cache = createCache({ l2: store, l2Timeout: '30d', l1: false })
    const idle = pendingEntries()
    await cache.set('k', 1)
    expect(pendingEntries()).toBe(idle + 1)
    await cache.close()
    expect(pendingEntries()).toBe(idle)
  })
})

/** How many `Immediate`s (event-loop turns scheduled with setImmediate) `run` creates. */
async function immediatesDuring(run: () => Promise<unknown>): Promise<number> {
  // A turn of its own first: time held by earlier code is dropped before counting.
  await new Promise((resolve) => setImmediate(resolve))
  let immediates = 0
  const hook = createHook({
    init(_id, type) {
      if (type === 'Immediate') immediates++
    },
  })
  hook.enable()
  try {
    await run()
  } finally {
    hook.disable()
  }
  return immediates
}

describe('event-loop turns of an L2 read', () => {
  it('a get on a cache without L1 holds no time, so it adds no turn of the event loop (no Immediate)', async () => {
    const cache = createCache({ l2: new MemoryStore(), l1: false })
    await cache.set('k', 1)
    const turns = await immediatesDuring(async () => {
      for (let i = 0; i < 50; i++) expect(await cache.get('k')).toBe(1)
    })
    expect(turns).toBe(0)
    await cache.close()
  })

  it('an L1 hit still holds the time for the rest of its turn (one Immediate for many hits)', async () => {
    const cache = createCache({ l2: new MemoryStore() })
    await cache.set('k', 1)
    const turns = await immediatesDuring(async () => {
      const hits = Array.from({ length: 50 }, () => cache.get('k'))
      expect(await Promise.all(hits)).toEqual(Array(50).fill(1))
    })
    expect(turns).toBe(1)
    await cache.close()
  })
})
