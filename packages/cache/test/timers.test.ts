import { getTimerService } from '@hotpath/core'
import { afterEach, describe, expect, it } from 'vitest'
import { CacheLoaderTimeoutError, type CacheLock, createCache } from '../src/index'
import { expectTimeoutAfter, hangingGet, pendingEntries, restoreTime, settle, useManualTime } from './helpers'
import { MemoryStore } from './memory-store'

describe('timers', () => {
  it('an l2Timeout above 2^31-1 ms bounds calls without TimeoutOverflowWarning', async () => {
    const warnings: Error[] = []
    const onWarning = (warning: Error) => warnings.push(warning)
    process.on('warning', onWarning)
    const store = new MemoryStore()
    const cache = createCache({ l2: store, l2Timeout: '30d' })
    try {
      await cache.set('k', 1)
      const { read, settled } = hangingGet(cache, store, 'other')
      await new Promise((resolve) => setTimeout(resolve, 50))
      // A 30-day bound must not fire after 1 ms (Node's behaviour for delays above 2^31-1 ms).
      expect(settled()).toBe(false)
      expect(cache.stats().l2.timeouts).toBe(0)
      expect(warnings.filter((w) => w.name === 'TimeoutOverflowWarning')).toEqual([])
      void read
    } finally {
      process.off('warning', onWarning)
      await cache.close()
    }
  })
})

describe('deadlines on the timer service', () => {
  afterEach(restoreTime)

  it('fake time drives a loader hard timeout; its one entry is ref-d while the caller waits and gone after', async () => {
    const time = useManualTime()
    const cache = createCache({ timeouts: { hard: '2s' } })
    const idle = pendingEntries()
    const outcome = cache.getOrSet('k', () => new Promise<string>(() => {})).catch((error: unknown) => error)
    await settle()
    expect(pendingEntries()).toBe(idle + 1)
    expect(getTimerService().stats().timerReferenced).toBe(true)
    time.advance(1_999)
    await settle()
    expect(pendingEntries()).toBe(idle + 1)
    time.advance(1)
    expect(await outcome).toBeInstanceOf(CacheLoaderTimeoutError)
    expect(pendingEntries()).toBe(idle)
    expect(cache.stats().loaderTimeouts).toBe(1)
    await cache.close()
  })

  it('a loader that settles in time leaves no entry behind', async () => {
    useManualTime()
    const cache = createCache({ timeouts: { hard: '2s' } })
    const idle = pendingEntries()
    expect(await cache.getOrSet('k', async () => 'v')).toBe('v')
    expect(pendingEntries()).toBe(idle)
    await cache.close()
  })

  it('an L2 call holds one ref-d entry until it answers or l2Timeout passes in fake time', async () => {
    const time = useManualTime()
    const store = new MemoryStore()
    const cache = createCache({ l2: store, l2Timeout: 300, l1: false })
    const idle = pendingEntries()
    await cache.set('k', 1)
    expect(await cache.get('k')).toBe(1)
    // Answered: the entry waits (unref'd, see l2-deadline.test.ts) for its due time.
    expect(pendingEntries()).toBe(idle + 1)
    const hanging = hangingGet(cache, store, 'k')
    await settle()
    expect(pendingEntries()).toBe(idle + 1)
    expect(getTimerService().stats().timerReferenced).toBe(true)
    await expectTimeoutAfter(time, hanging, 300)
    expect(cache.stats().l2.timeouts).toBe(1)
    expect(pendingEntries()).toBe(idle)
    await cache.close()
  })

  it('a lock wait polls L2 on the timer service, so fake time drives it to the hard timeout', async () => {
    const time = useManualTime()
    const store = new MemoryStore()
    // Another instance always holds the lease: this one waits for its value.
    const lock: CacheLock = { kind: 'held', maxPoll: 100, acquire: async () => null }
    const cache = createCache({ l2: store, lock, l1: false, timeouts: { hard: '1s' } })
    const idle = pendingEntries()
    const outcome = cache.getOrSet('k', async () => 'v').catch((error: unknown) => error)
    await settle()
    const reads = store.calls
    await settle()
    // Real time passing does not end the wait: only the service's clock does.
    expect(store.calls).toBe(reads)
    time.advance(5)
    await settle()
    expect(store.calls).toBeGreaterThan(reads)
    for (let i = 0; i < 40 && pendingEntries() > idle; i++) {
      time.advance(50)
      await settle()
    }
    expect(await outcome).toBeInstanceOf(CacheLoaderTimeoutError)
    expect(pendingEntries()).toBe(idle)
    await cache.close()
  })
})
