import { describe, expect, it } from 'vitest'
import { createCache } from '../src/index'
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
      store.mode = 'hang'
      let settled = false
      const read = cache.get('other').finally(() => {
        settled = true
      })
      await new Promise((resolve) => setTimeout(resolve, 50))
      // A 30-day bound must not fire after 1 ms (Node's behaviour for delays above 2^31-1 ms).
      expect(settled).toBe(false)
      expect(cache.stats().l2.timeouts).toBe(0)
      expect(warnings.filter((w) => w.name === 'TimeoutOverflowWarning')).toEqual([])
      void read
    } finally {
      process.off('warning', onWarning)
      await cache.close()
    }
  })
})
