import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { type Cache, createCache } from '@hotpath/cache'
import { Batcher, QueueFullError, RateLimiter, Semaphore, SemaphoreTimeoutError } from '@hotpath/concurrency'
import { type WorkerPoolStats, WorkerTimeoutError } from '@hotpath/concurrency/workers'
import { getClock, HotpathError } from '@hotpath/core'
import { type Advice, advise, createRegistry, prometheusHandler, type Registry } from '@hotpath/metrics'
import { type WebSocket, WebSocketServer } from 'ws'
import type { ChatConfig } from './config'
import {
  type ChatStore,
  ensureUser,
  insertMessages,
  loadProfile,
  migrate,
  openStore,
  type Profile,
  recentMessages,
  type StoredMessage,
} from './db'
import { type ChatMessage, type ErrorCode, parseClientMessage, type ServerMessage, USER } from './protocol'
import { createRenderer, type Renderer } from './renderer'
import { type Client, Rooms } from './rooms'
import { loadStaticFiles } from './static-files'

/** Raised by the profile loader when a user has no profile. */
class UnknownUserError extends HotpathError {
  constructor(id: string) {
    super('E_UNKNOWN_USER', `No profile for user '${id}'.`)
  }
}

/** Everything `/stats` returns (the page's metrics panel and the load report read it). */
export interface ChatStats {
  uptimeMs: number
  connections: number
  /** Sockets closed because they stopped answering pings. */
  deadConnections: number
  rooms: number
  messages: { received: number; broadcast: number; delivered: number; dropped: number; failed: number }
  /** Server-side latency of one message, from the frame's arrival to its broadcast, ms. */
  latency: { count: number; p50: number; p95: number; p99: number; max: number; mean: number }
  rateLimited: number
  busy: number
  cache: { hitRate: number; hits: number; misses: number; loads: number }
  limiter: ReturnType<RateLimiter['stats']>
  semaphore: ReturnType<Semaphore['stats']>
  writer: ReturnType<Batcher<StoredMessage, void>['stats']>
  /** The worker pool rendering long messages. */
  workers: WorkerPoolStats
  database: { kind: 'sqlite' | 'postgres'; pool: unknown; writeFailures: number }
  advice?: Advice[]
}

/** A running chat server. */
export interface ChatServer {
  /** `http://host:port`; the page is at `/`, the socket at `/ws?user=<name>`. */
  readonly url: string
  readonly wsUrl: string
  readonly config: ChatConfig
  readonly store: ChatStore
  readonly registry: Registry
  readonly profiles: Cache<Profile>
  readonly limiter: RateLimiter
  readonly semaphore: Semaphore
  readonly writer: Batcher<StoredMessage, void>
  readonly renderer: Renderer
  stats(options?: { advice?: boolean }): ChatStats
  /**
   * Closes every socket, finishes the messages already being processed, writes every pending
   * batch, then closes the cache and the database. Nothing accepted is lost.
   */
  close(): Promise<void>
}

const MAX_ROOMS_PER_CLIENT = 20
const MAX_QUEUED_PER_CLIENT = 64

/**
 * Opens the database, creates the tables and starts the HTTP + WebSocket server.
 *
 * @example
 * const server = await startChatServer(readConfig())
 * console.log(`open ${server.url}`)
 */
export async function startChatServer(config: ChatConfig): Promise<ChatServer> {
  const store = openStore(config)
  await migrate(store)
  const { db } = store
  const started = getClock().now()

  const registry = createRegistry()
  const latency = registry
    .histogram('chat_message_duration', {
      unit: 'ms',
      help: 'From a message frame arriving to its broadcast to the room',
    })
    .with({})
  const outcomes = registry.counter('chat_messages', {
    help: 'Message frames by outcome',
    labels: ['outcome'],
  })
  const delivered = outcomes.with({ outcome: 'broadcast' })
  const limited = outcomes.with({ outcome: 'rate_limited' })
  const busyCounter = outcomes.with({ outcome: 'busy' })
  let busy = 0
  const countBusy = () => {
    busy++
    busyCounter.inc()
  }

  const cache = createCache({ namespace: 'chat-room', l1: { maxEntries: 10_000 }, ttl: config.profileTtlMs })
  const profiles = cache.namespace<Profile>('profiles', { ttl: config.profileTtlMs })
  const limiter = new RateLimiter({
    limit: config.rateLimitPerMinute,
    window: '1m',
    algorithm: 'sliding-window',
    name: 'chat-messages',
  })
  const semaphore = new Semaphore({
    permits: config.processingConcurrency,
    maxQueue: 10_000,
    timeout: config.processingTimeoutMs,
    name: 'chat-processing',
  })
  let writeFailures = 0
  const writer = new Batcher<StoredMessage, void>((batch) => insertMessages(db, batch), {
    maxBatchSize: config.writeBatchSize,
    maxDelay: config.writeDelayMs,
    dedupe: false,
    concurrency: 1,
  })
  const renderer = createRenderer(config)
  registry.collect(cache, limiter, semaphore, writer, renderer.workers)

  const rooms = new Rooms({ maxRooms: 1_000, historySize: 50 })
  const clients = new Set<Client>()
  let received = 0
  let broadcasts = 0
  let closing = false

  const profileOf = (id: string) =>
    profiles.getOrSet(id, async () => {
      const profile = await loadProfile(db, id)
      if (profile === undefined) throw new UnknownUserError(id)
      return profile
    })

  const send = (client: Client, message: ServerMessage) => {
    if (client.ws.readyState === client.ws.OPEN) client.ws.send(JSON.stringify(message))
  }
  const fail = (
    client: Client,
    code: ErrorCode,
    message: string,
    extra: { retryAfterMs?: number; ref?: string } = {},
  ) => send(client, { type: 'error', code, message, ...extra })

  async function join(client: Client, name: string): Promise<void> {
    if (client.rooms.has(name)) return
    if (client.rooms.size >= MAX_ROOMS_PER_CLIENT) {
      return fail(client, 'ROOM_LIMIT', `A connection may be in at most ${MAX_ROOMS_PER_CLIENT} rooms.`)
    }
    let history: ChatMessage[] = []
    if (rooms.get(name) === undefined) {
      if (rooms.full) return fail(client, 'ROOM_LIMIT', 'The server has reached its room limit.')
      // A room not in memory starts from its stored history (profiles come from the cache).
      const stored = await recentMessages(db, name, 50)
      history = await Promise.all(
        stored.map(async (m) => ({
          type: 'message' as const,
          room: m.room,
          user: await profileOf(m.userId).catch(() => ({ id: m.userId, name: m.userId, color: '#888' })),
          text: m.body,
          html: (await renderer.render(m.body)).html,
          at: m.at,
        })),
      )
    }
    const room = rooms.join(client, name, () => history)
    if (room === undefined) return fail(client, 'ROOM_LIMIT', 'The server has reached its room limit.')
    send(client, { type: 'joined', room: name, members: rooms.members(room), history: room.recent })
    const presence: ServerMessage = {
      type: 'presence',
      room: name,
      user: client.userId,
      event: 'join',
      members: rooms.members(room),
    }
    rooms.broadcast(room, JSON.stringify(presence), client)
  }

  function leave(client: Client, name: string): void {
    if (!client.rooms.has(name)) return
    const room = rooms.leave(client, name)
    send(client, { type: 'left', room: name })
    if (room && room.members.size > 0) {
      const presence: ServerMessage = {
        type: 'presence',
        room: name,
        user: client.userId,
        event: 'leave',
        members: rooms.members(room),
      }
      rooms.broadcast(room, JSON.stringify(presence))
    }
  }

  // One semaphore around processing: at most `processingConcurrency` messages are between
  // arrival and broadcast; the others wait (bounded queue, bounded wait).
  async function processMessage(
    client: Client,
    roomName: string,
    text: string,
    ref: string | undefined,
    arrived: number,
  ): Promise<void> {
    try {
      await semaphore.run(async () => {
        const room = rooms.get(roomName)
        if (room === undefined || !room.members.has(client)) {
          fail(
            client,
            'NOT_IN_ROOM',
            `Join '${roomName}' before sending to it.`,
            ref === undefined ? {} : { ref },
          )
          return
        }
        const [user, rendered] = await Promise.all([profileOf(client.userId), renderer.render(text)])
        const at = getClock().now()
        const message: ChatMessage = {
          type: 'message',
          room: roomName,
          user,
          text: rendered.text,
          html: rendered.html,
          at,
        }
        if (ref !== undefined) message.ref = ref
        rooms.broadcast(room, JSON.stringify(message))
        rooms.remember(room, message)
        broadcasts++
        delivered.inc()
        latency.record(getClock().monotonic() - arrived)
        writer.add({ room: roomName, userId: client.userId, body: rendered.text, at }).catch(() => {
          writeFailures++
        })
      })
    } catch (error) {
      // A full render queue or a render past the processing timeout: the server is overloaded.
      if (
        error instanceof SemaphoreTimeoutError ||
        error instanceof QueueFullError ||
        error instanceof WorkerTimeoutError
      ) {
        countBusy()
        fail(
          client,
          'BUSY',
          'The server is busy; the message was not sent. Try again.',
          ref === undefined ? {} : { ref },
        )
        return
      }
      fail(client, 'INTERNAL', 'The message could not be processed.', ref === undefined ? {} : { ref })
    }
  }

  function onFrame(client: Client, raw: string) {
    if (closing) return
    const arrived = getClock().monotonic()
    received++
    const frame = parseClientMessage(raw)
    if (typeof frame === 'string') return fail(client, 'BAD_REQUEST', frame)
    if (frame.type === 'message') {
      // Checked on arrival, before any queueing: a flood costs one map lookup per frame.
      const admitted = limiter.consume(client.userId)
      if (!admitted.allowed) {
        limited.inc()
        const retryAfterMs = Math.ceil(admitted.retryAfterMs)
        // People read seconds; `retryAfterMs` keeps the exact figure for programs.
        return fail(
          client,
          'RATE_LIMITED',
          `Rate limit of ${config.rateLimitPerMinute} messages per minute reached; retry in ${Math.ceil(retryAfterMs / 1000)} s.`,
          frame.ref === undefined ? { retryAfterMs } : { retryAfterMs, ref: frame.ref },
        )
      }
    }
    if (client.queued >= MAX_QUEUED_PER_CLIENT) {
      countBusy()
      return fail(client, 'BUSY', 'Too many frames in flight on this connection.')
    }
    client.queued++
    client.chain = client.chain.then(async () => {
      try {
        if (frame.type === 'join') await join(client, frame.room)
        else if (frame.type === 'leave') leave(client, frame.room)
        else await processMessage(client, frame.room, frame.text, frame.ref, arrived)
      } catch {
        fail(client, 'INTERNAL', 'The frame could not be processed.')
      } finally {
        client.queued--
      }
    })
  }

  function stats(options: { advice?: boolean } = {}): ChatStats {
    const c = cache.stats()
    const l = latency.stats()
    const result: ChatStats = {
      uptimeMs: getClock().now() - started,
      connections: clients.size,
      deadConnections: dead,
      rooms: rooms.size,
      messages: {
        received,
        broadcast: broadcasts,
        delivered: rooms.delivered,
        dropped: rooms.dropped,
        failed: writeFailures,
      },
      latency: { count: l.count, p50: l.p50, p95: l.p95, p99: l.p99, max: l.max, mean: l.mean },
      rateLimited: limiter.stats().denied,
      busy,
      cache: { hitRate: c.hitRate, hits: c.l1.hits + c.l2.hits, misses: c.misses, loads: c.loads },
      limiter: limiter.stats(),
      semaphore: semaphore.stats(),
      writer: writer.stats(),
      workers: renderer.stats(),
      database: { kind: store.kind, pool: store.stats(), writeFailures },
    }
    if (options.advice) result.advice = advise(registry.snapshot())
    return result
  }

  const files = loadStaticFiles()
  const metrics = prometheusHandler(registry)
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost')
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end()
      return
    }
    if (url.pathname === '/stats') {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' })
      res.end(JSON.stringify(stats({ advice: url.searchParams.has('advice') })))
      return
    }
    if (url.pathname === '/metrics') {
      metrics(req, res)
      return
    }
    const file = files.get(url.pathname)
    if (file === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n')
      return
    }
    res.writeHead(200, { 'content-type': file.contentType, 'content-length': file.body.length })
    res.end(req.method === 'HEAD' ? undefined : file.body)
  })

  const wss = new WebSocketServer({ server, path: '/ws', maxPayload: 16 * 1024 })
  wss.on('connection', (ws: WebSocket, req) => {
    const userId = new URL(req.url ?? '/', 'http://localhost').searchParams.get('user') ?? ''
    if (closing || !USER.test(userId)) {
      ws.close(1008, 'Expected ?user=<1 to 32 letters, digits, _ . ->')
      return
    }
    const client: Client = { ws, userId, rooms: new Set(), chain: Promise.resolve(), queued: 0, alive: true }
    ws.on('pong', () => {
      client.alive = true
    })
    clients.add(client)
    // Frames wait for the profile to exist: the chain starts with it.
    client.chain = ensureUser(db, userId)
      .then(() => profileOf(userId))
      .then((user) => send(client, { type: 'welcome', user }))
      .catch(() => ws.close(1011, 'profile unavailable'))
    ws.on('message', (data, isBinary) => {
      if (isBinary) return fail(client, 'BAD_REQUEST', 'Frames must be JSON text.')
      onFrame(client, data.toString())
    })
    ws.on('close', () => {
      clients.delete(client)
      // Leaving waits for the frames already queued, so their messages are still broadcast.
      client.chain = client.chain.then(() => {
        for (const name of [...client.rooms]) leave(client, name)
      })
    })
    ws.on('error', () => {})
  })

  // One timer for every socket: a peer that has not answered the previous ping is gone.
  let dead = 0
  const heartbeat = setInterval(() => {
    for (const client of clients) {
      if (!client.alive) {
        dead++
        client.ws.terminate()
        continue
      }
      client.alive = false
      client.ws.ping()
    }
  }, config.heartbeatMs)
  heartbeat.unref()

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(config.port, config.host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const { port } = server.address() as AddressInfo
  const url = `http://${config.host}:${port}`

  let closed: Promise<void> | undefined
  return {
    url,
    wsUrl: `ws://${config.host}:${port}/ws`,
    config,
    store,
    registry,
    profiles,
    limiter,
    semaphore,
    writer,
    renderer,
    stats,
    close() {
      closed ??= (async () => {
        closing = true
        clearInterval(heartbeat)
        const open = [...clients]
        const gone = open.map((c) =>
          c.ws.readyState === c.ws.CLOSED ? undefined : new Promise((resolve) => c.ws.once('close', resolve)),
        )
        for (const client of open) client.ws.close(1001, 'server shutting down')
        // A peer that does not answer the close handshake within a second is cut.
        const cut = setTimeout(() => {
          for (const client of open) client.ws.terminate()
        }, 1_000)
        await Promise.all(gone)
        clearTimeout(cut)
        await new Promise<void>((resolve) => wss.close(() => resolve()))
        server.closeAllConnections()
        await new Promise<void>((resolve) => server.close(() => resolve()))
        // Frames received before the close are still processed and their messages written.
        await Promise.allSettled(open.map((c) => c.chain))
        await semaphore.onIdle()
        await renderer.close()
        await writer.close()
        await cache.close()
        await registry.close()
        await store.destroy()
      })()
      return closed
    },
  }
}
