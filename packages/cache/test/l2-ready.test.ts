import { describe, expect, it } from 'vitest'
import { CacheL2TimeoutError } from '../src/index'
import { L2Tier } from '../src/l2-tier'
import { MemoryStore } from './memory-store'

/** A store that is connecting, with a `whenReady()` promise that counts the handlers attached to it. */
function connectingStore() {
  let connect!: () => void
  const ready = new Promise<void>((resolve) => {
    connect = resolve
  })
  const then = ready.then.bind(ready)
  let handlers = 0
  // biome-ignore lint/suspicious/noThenProperty: counts the handlers the cache attaches to the promise
  ready.then = ((onReady, onError) => {
    handlers++
    return then(onReady, onError)
  }) as typeof ready.then
  const store = Object.assign(new MemoryStore(), {
    connected: false,
    ready: () => store.connected,
    whenReady: () => ready,
  })
  return {
    store,
    handlers: () => handlers,
    connect: () => {
      store.connected = true
      connect()
    },
  }
}

describe('calls waiting for a connecting store', () => {
  it('calls that time out leave no handler on whenReady() and are never sent', async () => {
    const { store, handlers, connect } = connectingStore()
    const tier = new L2Tier(store, 5, Number.MAX_SAFE_INTEGER, 1_000)
    let sent = 0
    const calls = Array.from({ length: 1_000 }, () =>
      tier.run('get', () => {
        sent++
        return Promise.resolve(new Array(100).fill(0))
      }),
    )
    const outcomes = await Promise.allSettled(calls)
    expect(outcomes.every((o) => o.status === 'rejected' && o.reason instanceof CacheL2TimeoutError)).toBe(
      true,
    )
    expect(handlers()).toBeLessThanOrEqual(1)
    connect()
    await new Promise((resolve) => setTimeout(resolve, 10))
    expect(sent).toBe(0)
  })

  it('a call still within its deadline is sent once the store connects', async () => {
    const { store, connect } = connectingStore()
    const tier = new L2Tier(store, 5_000, 5, 1_000)
    const waiting = tier.run('get', () => Promise.resolve('value'))
    await new Promise((resolve) => setTimeout(resolve, 10))
    connect()
    await expect(waiting).resolves.toBe('value')
  })
})
