import { createHook } from 'node:async_hooks'
import { getTimerService, setClock, setTimers, type TimerProvider } from '@hotpath/core'
import { manualTime } from '@hotpath/test-utils'
import { afterEach, describe, expect, it } from 'vitest'
import { createCache } from '../src/index'
import { hangingGet, settle } from './helpers'
import { MemoryStore } from './memory-store'

// A file of its own: it checks the timer service's ref state, which an entry another test leaves
// pending (a call on a store that never answers) would decide.
const pending = () => getTimerService().stats().pending

describe('the L2 deadline between calls', () => {
  afterEach(() => {
    setClock()
    setTimers()
  })

  it('sequential L2 calls arm one timer, not one each; the idle entry is unref-d and leaves when due', async () => {
    const time = manualTime({ wallStart: 1_700_000_000_000 })
    let armed = 0
    const timers: TimerProvider = {
      setTimeout(callback, delay) {
        armed++
        return time.timers.setTimeout(callback, delay)
      },
      clearTimeout: (handle) => time.timers.clearTimeout(handle),
    }
    setClock(time.clock)
    setTimers(timers)
    const store = new MemoryStore()
    const cache = createCache({ l2: store, l2Timeout: 300, l1: false })
    const idle = pending()
    await cache.set('k', 1)
    for (let i = 0; i < 10; i++) {
      expect(await cache.get('k')).toBe(1)
      time.advance(10)
    }
    expect(armed).toBe(1)
    expect(pending()).toBe(idle + 1)
    expect(getTimerService().stats().timerReferenced).toBe(false)
    time.advance(200)
    await settle()
    expect(pending()).toBe(idle)
    expect(cache.stats().l2.timeouts).toBe(0)
    await cache.close()
  })

  it('a call made while the idle entry waits still times out at its own deadline', async () => {
    const time = manualTime({ wallStart: 1_700_000_000_000 })
    setClock(time.clock)
    setTimers(time.timers)
    const store = new MemoryStore()
    const cache = createCache({ l2: store, l2Timeout: 300, l1: false })
    const idle = pending()
    await cache.set('k', 1)
    // The entry is now due at 300, for the answered set.
    time.advance(100)
    const { read, settled } = hangingGet(cache, store, 'k')
    await settle()
    expect(getTimerService().stats().timerReferenced).toBe(true)
    time.advance(200)
    await settle()
    expect(settled()).toBe(false)
    time.advance(99)
    await settle()
    expect(settled()).toBe(false)
    time.advance(1)
    expect(await read).toBeUndefined()
    expect(cache.stats().l2.timeouts).toBe(1)
    expect(pending()).toBe(idle)
    await cache.close()
  })

  it('close() takes the idle L2 entry off the timer service', async () => {
    const time = manualTime({ wallStart: 1_700_000_000_000 })
    setClock(time.clock)
    setTimers(time.timers)
    const store = new MemoryStore()
    const cache = createCache({ l2: store, l2Timeout: '30d', l1: false })
    const idle = pending()
    await cache.set('k', 1)
    expect(pending()).toBe(idle + 1)
    await cache.close()
    expect(pending()).toBe(idle)
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
