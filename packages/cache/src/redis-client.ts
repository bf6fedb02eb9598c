// biome-ignore lint/suspicious/noExplicitAny: event listeners of EventEmitter-based clients take any arguments
type Listener = (...args: any[]) => void

/**
 * The part of an ioredis `Redis` or `Cluster` client the store and the bus use. Declared here so
 * the package never imports ioredis types; any client with these methods works.
 *
 * @example
 * const client: RedisClientLike = new Redis({ enableOfflineQueue: false })
 * const store = redisStore({ client })
 */
export interface RedisClientLike {
  /** ioredis connection status; commands are sent only when it is `'ready'`. */
  readonly status: string
  getBuffer(key: string): Promise<Buffer | null>
  mgetBuffer(keys: string[]): Promise<(Buffer | null)[]>
  set(key: string, value: string | Buffer, mode: 'PX', ttl: number): Promise<unknown>
  mget(keys: string[]): Promise<(string | null)[]>
  incr(key: string): Promise<number>
  evalsha(sha: string, numKeys: number, ...args: (string | Buffer | number)[]): Promise<unknown>
  eval(script: string, numKeys: number, ...args: (string | Buffer | number)[]): Promise<unknown>
  unlink(...keys: string[]): Promise<number>
  scan(
    cursor: string,
    matchToken: 'MATCH',
    pattern: string,
    countToken: 'COUNT',
    count: number,
  ): Promise<[cursor: string, elements: string[]]>
  publish(channel: string, message: string): Promise<number>
  /** Sharded publish (Redis 7+; ioredis `Cluster#spublish`), used by the bus on a cluster. */
  spublish?(channel: string, message: string): Promise<unknown>
  /** Cluster only: node addresses serving each hash slot (ioredis `Cluster#slots`). */
  readonly slots?: string[][]
  /** Starts a pipeline; on a cluster every command in it must go to one node. */
  pipeline?(): RedisPipelineLike
  /** Cluster only: the node clients. */
  nodes?(role?: 'master' | 'slave' | 'all'): RedisClientLike[]
  on(event: string, listener: Listener): unknown
  off(event: string, listener: Listener): unknown
}

/**
 * The part of an ioredis pipeline the store uses: commands are queued, then sent together.
 *
 * @example
 * const pipeline: RedisPipelineLike = client.pipeline()
 * pipeline.mgetBuffer(['a', 'b'])
 * const [[error, values]] = (await pipeline.exec())!
 */
export interface RedisPipelineLike {
  mgetBuffer(keys: string[]): unknown
  /** One `[error, reply]` pair per queued command, in order. */
  exec(): Promise<[error: Error | null, reply: unknown][] | null>
}

/**
 * What the bus needs of its dedicated subscriber connection (`client.duplicate()`).
 *
 * @example
 * const subscriber: RedisSubscriberLike = client.duplicate()
 * await subscriber.subscribe('hotpath:cache:bus')
 */
export interface RedisSubscriberLike {
  readonly status: string
  subscribe(channel: string): Promise<unknown>
  /** Sharded subscribe (Redis 7+), on a Cluster created with `shardedSubscribers: true`. */
  ssubscribe?(channel: string): Promise<unknown>
  unsubscribe(channel: string): Promise<unknown>
  on(event: string, listener: Listener): unknown
  off(event: string, listener: Listener): unknown
  quit(): Promise<unknown>
  disconnect(): void
}

/**
 * A client the bus can publish with and duplicate for SUBSCRIBE.
 *
 * @example
 * const client: RedisBusClientLike = new Redis.Cluster([{ host: 'redis', port: 6379 }])
 * const bus = redisBus({ client })
 */
export interface RedisBusClientLike
  extends Pick<RedisClientLike, 'status' | 'publish' | 'spublish' | 'nodes' | 'on' | 'off'> {
  duplicate(): RedisSubscriberLike
}
