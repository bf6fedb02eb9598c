/**
 * What an L2 store keeps per key: the codec's output.
 *
 * @example
 * const value: StoredValue = jsonCodec().encode({ id: 1 })
 * await store.set('user:1', value, 60_000)
 */
export type StoredValue = string | Uint8Array

/**
 * One write handed to {@link CacheStore.setMany}.
 *
 * @example
 * const write: StoreWrite = { key: 'user:1', value: '{"id":1}', ttl: 60_000 }
 * await store.setMany([write])
 */
export interface StoreWrite {
  /** The key (without the store's own prefix). */
  key: string
  /** The encoded entry. */
  value: StoredValue
  /** Milliseconds the store keeps the entry (the entry's ttl plus its grace). */
  ttl: number
}

/**
 * One conditional change handed to {@link CacheStore.compareAndSet}: applied only while the key
 * still holds what was read from it.
 *
 * @example
 * const [current] = await store.getMany(['user:1'])
 * const swap: StoreSwap = { key: 'user:1', expected: current ?? null, value: '{"id":2}', ttl: 60_000 }
 * const [applied] = await store.compareAndSet!([swap])
 */
export interface StoreSwap {
  /** The key (without the store's own prefix). */
  key: string
  /** What the key held when it was read; `null` when it held nothing. */
  expected: StoredValue | null
  /** The new entry, or `null` to delete the key. */
  value: StoredValue | null
  /** Milliseconds the store keeps the new entry (ignored for a deletion). */
  ttl: number
}

/**
 * The L2 contract. The cache bounds every call with `l2Timeout`, counts failures and opens its
 * circuit breaker; a store only has to talk to its backend and never wait on a disconnected one
 * (throw at once instead). `redisStore` and `kyselyStore` implement it.
 *
 * @example
 * const store: CacheStore = redisStore({ client })
 */
export interface CacheStore {
  /** A short name shown in stats and errors ('redis', 'kysely', ...). */
  readonly kind: string
  /** Reads one key; `undefined` or `null` for a miss. */
  get(key: string): Promise<StoredValue | null | undefined>
  /** Reads keys in order, in as few round trips as the backend allows. */
  getMany(keys: readonly string[]): Promise<(StoredValue | null | undefined)[]>
  /** Writes one key with a time to live in milliseconds. */
  set(key: string, value: StoredValue, ttl: number): Promise<void>
  /** Writes several keys. */
  setMany(writes: readonly StoreWrite[]): Promise<void>
  /**
   * Optional. Applies each change only if its key still holds `expected` (compared and written
   * in one atomic step per key); resolves with one boolean per change, true when it was applied.
   * The recovery replay uses it, so a write another instance makes after the replay read a key is
   * never overwritten. A store without it is read, compared and written in separate calls.
   *
   * @example
   * const [applied] = await store.compareAndSet!([{ key: 'k', expected: null, value: 'v', ttl: 1_000 }])
   */
  compareAndSet?(swaps: readonly StoreSwap[]): Promise<boolean[]>
  /** Deletes keys. */
  delete(keys: readonly string[]): Promise<void>
  /** Deletes every key starting with `prefix`. */
  clear(prefix: string): Promise<void>
  /** Current version counters of tags (0 for a tag never invalidated). */
  getTagVersions(tags: readonly string[]): Promise<number[]>
  /** Increments tag version counters atomically and returns the new versions. */
  bumpTagVersions(tags: readonly string[]): Promise<number[]>
  /**
   * False while the backend is not connected. Without `whenReady` the cache then skips the call;
   * with it, the call waits for the connection within `l2Timeout` (unless the breaker is open).
   */
  ready?(): boolean
  /**
   * Resolves once the backend is connected again (at once when it is). The cache bounds the wait,
   * so this promise may stay pending while the backend is away. Return the same pending promise
   * to every caller: a listener added per call would pile up while the backend is away.
   *
   * @example
   * let connected: Promise<void> | undefined
   * const whenReady = () => {
   *   if (client.status === 'ready') return Promise.resolve()
   *   connected ??= new Promise<void>((resolve) =>
   *     client.once('ready', () => {
   *       connected = undefined
   *       resolve()
   *     }),
   *   )
   *   return connected
   * }
   */
  whenReady?(): Promise<void>
  /**
   * Server-assisted invalidation: reports every change of a key under `prefixes.keys` and of a tag
   * counter under `prefixes.tags`, whoever made it (another service, a CLI, a raw client). Absent
   * when the backend cannot track (Redis Cluster, SQL stores). Used by `createCache({ invalidation:
   * 'tracking' })`.
   *
   * @example
   * const tracking = store.track!({ keys: 'router:json:', tags: 'router:' })
   * await tracking.start({ keys: (keys) => drop(keys), tags: (tags) => forget(tags), reset: () => distrustAll() })
   */
  track?(prefixes: { keys: string; tags: string }): StoreTracking
  /** Releases what the store itself opened (never a client the user passed in). */
  close?(): Promise<void>
}

/**
 * Handlers a cache gives the tracking of its store.
 *
 * @example
 * const handlers: TrackingHandlers = { keys: (k) => console.log(k), tags: () => {}, reset: () => {} }
 * await store.track!({ keys: 'cache:json:', tags: 'cache:' }).start(handlers)
 */
export interface TrackingHandlers {
  /** Keys (as the cache names them to the store) that changed, expired or were deleted. */
  keys(keys: string[]): void
  /** Tags (as the cache names them to the store) whose version counter changed. */
  tags(tags: string[]): void
  /**
   * Changes may have gone unreported (the connection was lost, tracking was set up again, the
   * database was flushed): nothing cached before this call is to be trusted as fresh.
   */
  reset(): void
}

/**
 * Counters of a store's tracking.
 *
 * @example
 * const { connected, invalidations }: TrackingStats = cache.stats().tracking!
 */
export interface TrackingStats {
  /** Whether tracking is live: a change made now will be reported. */
  connected: boolean
  /** Invalidation messages received (one may name several keys). */
  invalidations: number
  /** Times the cache was told to distrust what it holds (`TrackingHandlers.reset`). */
  resets: number
}

/**
 * What `CacheStore.track` returns.
 *
 * @example
 * const tracking: StoreTracking = redisStore({ client }).track!({ keys: 'cache:json:', tags: 'cache:' })
 */
export interface StoreTracking {
  /** Starts tracking; called once by the cache. */
  start(handlers: TrackingHandlers): Promise<void>
  /** Whether tracking is live right now. */
  connected(): boolean
  /** Counters. */
  stats(): TrackingStats
  /** Stops tracking and releases what it opened. */
  close(): Promise<void>
}

/**
 * An invalidation sent between cache instances. Values never travel on the bus.
 *
 * @example
 * const message: BusMessage = { i: instanceId, n: 'router', k: ['models:gpt-4o'], s: Date.now() }
 * bus.publish(message)
 */
export interface BusMessage {
  /** Sender instance id (receivers ignore their own messages). */
  i: string
  /** The cache name (`createCache({ namespace })`); receivers ignore other caches. */
  n: string
  /** Full keys to drop from L1. */
  k?: string[]
  /** Tags with their new versions. */
  t?: [string, number][]
  /** A key prefix to clear ('' clears everything). */
  c?: string
  /** Set when the sender had to drop messages: receivers stop trusting L1 written before. */
  r?: 1
  /** Wall-clock send time, for the bus lag figure in stats. */
  s: number
}

/**
 * Handlers a cache gives its bus.
 *
 * @example
 * const handlers: BusHandlers = { message: (m) => console.log(m.k), resubscribed: () => {} }
 * await bus.start(handlers)
 */
export interface BusHandlers {
  /** Called for every message from another instance. */
  message(message: BusMessage): void
  /** Called after the bus subscribed again following a disconnection. */
  resubscribed(): void
}

/**
 * Counters of a bus.
 *
 * @example
 * const { published, dropped, connected }: BusStats = bus.stats()
 */
export interface BusStats {
  /** Messages handed to the backend. */
  published: number
  /** Messages received from other instances. */
  received: number
  /** Messages waiting for the backend to come back. */
  queued: number
  /** Messages dropped because the queue was full. */
  dropped: number
  /** Times the subscription was re-established after a disconnection. */
  resubscribes: number
  /** Whether the subscription is live. */
  connected: boolean
}

/**
 * Cross-instance invalidation. `redisBus` implements it.
 *
 * @example
 * const cache = createCache({ l2: redisStore({ client }), bus: redisBus({ client }) })
 */
export interface CacheBus {
  /** Starts listening; called once by the cache. */
  start(handlers: BusHandlers): Promise<void>
  /** Sends a message, or queues it (bounded) while the backend is away. Never throws. */
  publish(message: BusMessage): void
  /** Counters. */
  stats(): BusStats
  /** Stops listening and releases what the bus opened. */
  close(): Promise<void>
}
