import type { RedisClientLike } from './redis-client'
import type { StoreTracking, TrackingHandlers, TrackingStats } from './store'

// biome-ignore lint/suspicious/noExplicitAny: event listeners of EventEmitter-based clients take any arguments
type Listener = (...args: any[]) => void

/**
 * The tracking connection: a RESP2 duplicate of the store's client. RESP2 because Redis sends
 * invalidations to a RESP3 connection as push messages, which ioredis 6 does not hand to the
 * application; on RESP2 they arrive as ordinary pub/sub messages on `__redis__:invalidate`.
 */
interface TrackingConnectionLike {
  readonly status: string
  call(command: string, ...args: (string | number)[]): Promise<unknown>
  subscribe(channel: string): Promise<unknown>
  connect?(): Promise<void>
  on(event: string, listener: Listener): unknown
  off(event: string, listener: Listener): unknown
  disconnect(): void
}

interface DuplicableClient {
  duplicate(override?: { autoResubscribe?: boolean; protocol?: 2 }): TrackingConnectionLike
}

/** Whether `client` can open a tracking connection (a single-server ioredis client can). */
export function canTrack(client: RedisClientLike): boolean {
  return (
    typeof client.nodes !== 'function' &&
    typeof (client as unknown as Partial<DuplicableClient>).duplicate === 'function'
  )
}

const CHANNEL = '__redis__:invalidate'

const text = (value: unknown): string => (Buffer.isBuffer(value) ? value.toString('utf8') : String(value))

/**
 * Redis client-side caching in broadcasting mode for one cache (`prefixes` are Redis key
 * prefixes; reported names lose their first `strip` characters, the store's own prefix): `CLIENT TRACKING on REDIRECT
 * <own id> BCAST PREFIX <keys> PREFIX <tags>` on a dedicated connection subscribed to
 * `__redis__:invalidate`, so Redis reports every change of a key under those prefixes, whoever
 * made it. The setup runs again on every reconnection (tracking does not survive one); each
 * loss and each completed setup calls `reset`, since changes made in between went unreported.
 * The connection lives as long as `client`: when the client ends, it is disconnected. NOLOOP
 * would not help: it only silences the tracking connection's own writes, and the cache writes
 * through `client` (its own reports are skipped by count instead, see `OwnWrites`).
 */
export function redisTracking(
  client: RedisClientLike,
  prefixes: { keys: string; tags: string },
  strip: { keys: number; tags: number },
): StoreTracking {
  const stats: TrackingStats = { connected: false, invalidations: 0, resets: 0 }
  let connection: TrackingConnectionLike | undefined
  let handlers: TrackingHandlers | undefined
  let closed = false
  /** Setups started; only the latest one counts. */
  let attempts = 0
  /** Times the connection closed: a setup that saw one did not set up the current connection. */
  let closes = 0

  const reset = () => {
    stats.resets++
    handlers?.reset()
  }

  const onMessage = (channel: unknown, message: unknown) => {
    if (closed || !handlers || text(channel) !== CHANNEL) return
    stats.invalidations++
    // A null message is a flush of the whole database: every key changed.
    if (message === null || message === undefined) {
      reset()
      return
    }
    const keys: string[] = []
    const tags: string[] = []
    for (const item of Array.isArray(message) ? message : [message]) {
      const name = text(item)
      if (name.startsWith(prefixes.tags)) tags.push(name.slice(strip.tags))
      else if (name.startsWith(prefixes.keys)) keys.push(name.slice(strip.keys))
    }
    if (keys.length > 0) handlers.keys(keys)
    if (tags.length > 0) handlers.tags(tags)
  }

  // Sent on every 'ready': a new connection has no tracking, and its client id changed.
  const onReady = () => {
    const conn = connection
    if (!conn || closed) return
    const attempt = ++attempts
    const closesBefore = closes
    const setup = async () => {
      const id = await conn.call('CLIENT', 'ID')
      await conn.call(
        'CLIENT',
        'TRACKING',
        'on',
        'REDIRECT',
        String(id),
        'BCAST',
        'PREFIX',
        prefixes.keys,
        'PREFIX',
        prefixes.tags,
      )
      await conn.subscribe(CHANNEL)
    }
    setup().then(
      () => {
        // A command of an older setup may be retried on a newer connection and succeed there
        // without tracking being on it: only the latest setup, on an unbroken connection, counts.
        if (closed || attempt !== attempts || closes !== closesBefore || stats.connected) return
        stats.connected = true
        // What was cached before this point may have missed a change: from here on none is missed.
        reset()
      },
      () => {}, // the connection dropped during the setup: the next 'ready' runs it again
    )
  }

  const onClose = () => {
    closes++
    if (!stats.connected) return
    stats.connected = false
    if (!closed) reset()
  }

  const onClientEnd = () => {
    connection?.disconnect()
    onClose()
  }

  return {
    async start(h) {
      handlers = h
      client.on('end', onClientEnd)
      const conn = (client as unknown as DuplicableClient).duplicate({ autoResubscribe: false, protocol: 2 })
      connection = conn
      conn.on('messageBuffer', onMessage)
      conn.on('ready', onReady)
      conn.on('close', onClose)
      conn.on('error', () => {}) // errors surface through 'close' and reconnection
      if (conn.status === 'ready') onReady()
      else if (conn.status === 'wait') conn.connect?.().catch(() => {})
    },
    connected: () => stats.connected,
    stats: () => ({ ...stats }),
    async close() {
      if (closed) return
      closed = true
      client.off('end', onClientEnd)
      const conn = connection
      stats.connected = false
      if (!conn) return
      conn.off('messageBuffer', onMessage)
      conn.off('ready', onReady)
      conn.off('close', onClose)
      // Redis drops the tracking state of a closed connection; QUIT could wait on a hung server.
      conn.disconnect()
    },
  }
}
