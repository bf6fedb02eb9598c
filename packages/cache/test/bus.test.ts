import { EventEmitter } from 'node:events'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { type BusHandlers, type BusMessage, type CacheBus, CacheClosedError, createCache } from '../src/index'
import { redisBus } from '../src/redis'
import { MemoryStore } from './memory-store'

/** An in-process bus joining several caches, with a switch to simulate a lost subscription. */
class TestHub {
  readonly members = new Set<BusHandlers>()
  bus(): CacheBus & { handlers?: BusHandlers } {
    const hub = this
    const bus: CacheBus & { handlers?: BusHandlers } = {
      async start(handlers) {
        bus.handlers = handlers
        hub.members.add(handlers)
      },
      publish(message: BusMessage) {
        const copy = JSON.parse(JSON.stringify(message)) as BusMessage
        for (const member of hub.members) member.message(copy)
      },
      stats: () => ({ published: 0, received: 0, queued: 0, dropped: 0, resubscribes: 0, connected: true }),
      async close() {
        if (bus.handlers) hub.members.delete(bus.handlers)
      },
    }
    return bus
  }
}

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 })
})
afterEach(() => {
  vi.useRealTimers()
})

describe('bus handling', () => {
  it('drops keys, applies tag versions and clears on messages from other instances only', async () => {
    const hub = new TestHub()
    const store = new MemoryStore()
    const a = createCache({ l2: store, bus: hub.bus() })
    const b = createCache({ l2: store, bus: hub.bus() })
    await a.set('k', 1, { tags: ['t'] })
    expect(await b.get('k')).toBe(1)
    await a.set('k', 2, { tags: ['t'] })
    expect(await b.get('k')).toBe(2)
    await a.invalidateTags(['t'])
    expect(await b.get('k')).toBeUndefined()
    await b.namespace('n').set('x', 1)
    await a.namespace('n').get('x')
    await b.namespace('n').clear()
    expect(await a.namespace('n').get('x')).toBeUndefined()
    // warm sends nothing: b keeps its L1 copy
    await b.set('w', 'b-copy')
    await a.warm([{ key: 'w', value: 'warmed' }])
    expect(await b.get('w')).toBe('b-copy')
    // a message from another cache name is ignored
    const other = createCache({ namespace: 'other', l2: store, bus: hub.bus() })
    await a.set('same', 1)
    await other.set('same', 9)
    expect(await a.get('same')).toBe(1)
  })

  it('tells other instances only after L2 holds the change (so they cannot re-read the old value)', async () => {
    const hub = new TestHub()
    const store = new MemoryStore()
    const bus = hub.bus()
    const seenInL2: (string | undefined)[] = []
    const publish = bus.publish.bind(bus)
    bus.publish = (message) => {
      const raw = store.data.get('cache:j1:k')
      seenInL2.push(raw === undefined ? undefined : String(raw).slice(2, 7))
      publish(message)
    }
    const cache = createCache({ l2: store, bus })
    await cache.set('k', 'first')
    await cache.delete('k')
    await cache.set('k', 'again', { l2Write: 'background' })
    await vi.advanceTimersByTimeAsync(0)
    expect(seenInL2).toEqual(['first', undefined, 'again'])
  })

  it('after a resubscribe, L1 entries written before stop counting as fresh but still serve as fail-safe', async () => {
    const hub = new TestHub()
    const store = new MemoryStore()
    const bus = hub.bus()
    const cache = createCache({ l2: store, bus, grace: '1h' })
    await cache.set('k', 'old')
    await createCache({ l2: store }).set('k', 'newer') // written while our subscription was away
    expect(await cache.get('k')).toBe('old') // L1 did not hear about it
    await vi.advanceTimersByTimeAsync(0)
    bus.handlers!.resubscribed()
    expect(await cache.get('k')).toBe('newer')
    store.mode = 'fail'
    await cache.set('j', 'local')
    bus.handlers!.resubscribed()
    expect(await cache.getOrSet('j', () => Promise.reject(new Error('down')))).toBe('local')
  })

  it('a reset message (its sender dropped messages) makes L1 entries stale, as a resubscribe does', async () => {
    const hub = new TestHub()
    const store = new MemoryStore()
    const cache = createCache({ l2: store, bus: hub.bus(), grace: '1h' })
    await cache.set('k', 'old')
    await createCache({ l2: store }).set('k', 'newer')
    expect(await cache.get('k')).toBe('old')
    hub.bus().publish({ i: 'other', n: 'cache', s: 1_000_000, r: 1 })
    expect(await cache.get('k')).toBe('newer')
  })
})

class FakeRedis extends EventEmitter {
  status = 'reconnecting'
  sent: string[] = []
  subscriber = Object.assign(new EventEmitter(), {
    status: 'ready',
    subscribe: vi.fn(async () => 1),
    unsubscribe: vi.fn(async () => 1),
    quit: vi.fn(async () => 'OK'),
    disconnect: vi.fn(),
  })
  async publish(_channel: string, message: string) {
    this.sent.push(message)
    return 1
  }
  duplicate() {
    return this.subscriber
  }
}

describe('redisBus', () => {
  it('queues publishes while the client is away; past the bound, one reset message replaces the lost ones', async () => {
    const client = new FakeRedis()
    const bus = redisBus({ client, maxQueue: 2 })
    await bus.start({ message: () => {}, resubscribed: () => {} })
    for (const k of ['a', 'b', 'c']) bus.publish({ i: 'x', n: 'cache', k: [k], s: 0 })
    expect(bus.stats()).toMatchObject({ queued: 2, dropped: 2, published: 0 })
    client.status = 'ready'
    client.emit('ready')
    const sent = client.sent.map((m) => JSON.parse(m) as BusMessage)
    expect(sent).toEqual([
      { i: 'x', n: 'cache', s: 0, r: 1 },
      { i: 'x', n: 'cache', s: 0, k: ['c'] },
    ])
    expect(bus.stats()).toMatchObject({ queued: 0, published: 2 })
    await bus.close()
    expect(client.listenerCount('ready')).toBe(0)
    expect(client.listenerCount('end')).toBe(0)
    expect(client.subscriber.disconnect).toHaveBeenCalled()
  })

  it('disconnects its subscriber when the client it was duplicated from ends', async () => {
    const client = new FakeRedis()
    const bus = redisBus({ client })
    await bus.start({ message: () => {}, resubscribed: () => {} })
    expect(client.subscriber.disconnect).not.toHaveBeenCalled()
    client.emit('end')
    expect(client.subscriber.disconnect).toHaveBeenCalled()
    expect(bus.stats().connected).toBe(false)
    await bus.close()
  })

  it('reports a resubscription only after the subscriber reconnected, and ignores malformed messages', async () => {
    const client = new FakeRedis()
    const bus = redisBus({ client, channel: 'ch' })
    const resubscribed = vi.fn()
    const message = vi.fn()
    await bus.start({ message, resubscribed })
    await vi.waitFor(() => expect(bus.stats().connected).toBe(true))
    client.subscriber.emit('message', 'ch', '{"__proto__":1}')
    client.subscriber.emit('message', 'ch', 'not json')
    client.subscriber.emit('message', 'other', JSON.stringify({ i: 'x', n: 'c', s: 1 }))
    client.subscriber.emit('message', 'ch', JSON.stringify({ i: 'x', n: 'c', s: 1, k: ['a'] }))
    expect(message).toHaveBeenCalledTimes(1)
    client.subscriber.emit('close')
    expect(bus.stats().connected).toBe(false)
    client.subscriber.emit('ready')
    await vi.waitFor(() => expect(resubscribed).toHaveBeenCalledTimes(1))
    expect(bus.stats().resubscribes).toBe(1)
    await bus.close()
  })
})

describe('close', () => {
  it('settles a pending getOrSetMany', async () => {
    const cache = createCache()
    const pending = cache.getOrSetMany(['a'], () => new Promise<string[]>(() => {}))
    await vi.advanceTimersByTimeAsync(0)
    await cache.close()
    await expect(pending).rejects.toBeInstanceOf(CacheClosedError)
  })
})

/** A Cluster-shaped client whose server has no sharded pub/sub (Redis 6). */
class FakeClusterWithoutSharding extends FakeRedis {
  override status = 'ready'
  nodes() {
    return []
  }
  duplicateArgs: unknown[] = []
  override duplicate(...args: unknown[]) {
    this.duplicateArgs = args
    return Object.assign(this.subscriber, {
      ssubscribe: vi.fn(async () => {
        throw new Error("ERR unknown command 'ssubscribe'")
      }),
    })
  }
  async spublish(_channel: string, _message: string): Promise<number> {
    throw new Error("ERR unknown command 'spublish'")
  }
}

describe('redisBus on a Cluster client', () => {
  it('uses sharded pub/sub, and falls back to classic pub/sub on a server without it', async () => {
    const client = new FakeClusterWithoutSharding()
    const bus = redisBus({ client, channel: 'ch' })
    await bus.start({ message: () => {}, resubscribed: () => {} })
    expect(client.duplicateArgs).toEqual([[], { shardedSubscribers: true }])
    await vi.waitFor(() => expect(client.subscriber.subscribe).toHaveBeenCalledWith('ch'))
    await vi.waitFor(() => expect(bus.stats().connected).toBe(true))
    bus.publish({ i: 'x', n: 'cache', k: ['a'], s: 0 })
    // SPUBLISH was refused: the message is queued and sent again with PUBLISH by the retry timer.
    await vi.waitFor(() => expect(client.sent).toHaveLength(1), { timeout: 1_000 })
    expect(JSON.parse(client.sent[0]!)).toEqual({ i: 'x', n: 'cache', k: ['a'], s: 0 })
    expect(bus.stats()).toMatchObject({ queued: 0, published: 1 })
    await bus.close()
  })

  it('refuses `sharded: true` for a client that is not a Cluster', () => {
    expect(() => redisBus({ client: new FakeRedis(), sharded: true })).toThrow(
      new TypeError(
        'Expected `sharded` to be false unless `client` is an ioredis Cluster, got `true` (boolean)',
      ),
    )
  })
})
