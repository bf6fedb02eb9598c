import {
  checkBoolean,
  checkInteger,
  checkKnownOptions,
  checkOptionsObject,
  checkString,
  invalidOption,
  schedule,
  type TimerHandle,
} from '@hotpath/core'
import { Deque } from '@hotpath/core/internal'
import type { RedisBusClientLike, RedisSubscriberLike } from './redis-client'
import type { BusHandlers, BusMessage, BusStats, CacheBus } from './store'

/**
 * Options of {@link redisBus}.
 *
 * @example
 * const options: RedisBusOptions = { client, channel: 'router:cache:bus', maxQueue: 5_000 }
 * const cache = createCache({ l2: redisStore({ client }), bus: redisBus(options) })
 */
export interface RedisBusOptions {
  /**
   * The client to publish with; the bus opens its own `client.duplicate()` for SUBSCRIBE and
   * closes that one on `close()`.
   */
  client: RedisBusClientLike
  /**
   * The pub/sub channel.
   * @default 'hotpath:cache:bus'
   */
  channel?: string
  /**
   * Messages kept while Redis is away. Past it the queued messages are dropped (and counted) and
   * replaced by one that makes every receiver stop trusting its L1 as fresh, as after a
   * resubscription: a lost invalidation never leaves an old value looking fresh.
   * @default 1_000
   */
  maxQueue?: number
  /**
   * Sharded pub/sub (SPUBLISH/SSUBSCRIBE, Redis 7+): a message goes only to the master serving the
   * channel's hash slot (and its replicas) instead of being broadcast over the cluster bus to every
   * node. Used when `client` is a Cluster; the subscriber is then a `client.duplicate()` with
   * ioredis's `shardedSubscribers`, which follows the slot to the replica promoted by a failover.
   * A server without SPUBLISH (Redis 6) makes the bus fall back to classic pub/sub by itself.
   * Every instance sharing a channel must use the same mode.
   * @default true for an ioredis Cluster, false for a single server
   */
  sharded?: boolean
}

/** Option names of {@link RedisBusOptions}. */
export const REDIS_BUS_OPTIONS = ['client', 'channel', 'maxQueue', 'sharded'] as const

/** Pause before sending messages again after a failed publish (a failover takes seconds). */
const RETRY_MS = 100

const unknownCommand = (error: unknown) => error instanceof Error && /unknown command/i.test(error.message)

function isMessage(value: unknown): value is BusMessage {
  if (value === null || typeof value !== 'object') return false
  const m = value as Record<string, unknown>
  return (
    typeof m.i === 'string' &&
    typeof m.n === 'string' &&
    typeof m.s === 'number' &&
    (m.k === undefined || (Array.isArray(m.k) && m.k.every((k) => typeof k === 'string'))) &&
    (m.t === undefined ||
      (Array.isArray(m.t) &&
        m.t.every((t) => Array.isArray(t) && typeof t[0] === 'string' && typeof t[1] === 'number'))) &&
    (m.c === undefined || typeof m.c === 'string') &&
    (m.r === undefined || m.r === 1)
  )
}

/**
 * Cross-instance invalidation over Redis pub/sub. Only invalidations travel (keys, tags, clears,
 * scoped by cache name), never values. Publishes made while Redis is away are queued (bounded)
 * and sent when it is back; after the subscriber reconnects, the cache stops trusting L1 entries
 * written before, since they could have missed a message. The subscriber connection lives as
 * long as `client`: when the client ends (`quit()`), the bus disconnects it, so it never keeps a
 * process alive on its own. On a Cluster client the bus uses sharded pub/sub (see
 * {@link RedisBusOptions.sharded}); a failover of the channel's master counts as a resubscription.
 *
 * @example
 * const client = new Redis({ enableOfflineQueue: false })
 * const cache = createCache({ l2: redisStore({ client }), bus: redisBus({ client }) })
 */
export function redisBus(options: RedisBusOptions): CacheBus {
  const raw = checkOptionsObject('options', options)
  checkKnownOptions('redisBus()', raw, REDIS_BUS_OPTIONS)
  const client = raw.client
  if (!client || typeof client.duplicate !== 'function' || typeof client.publish !== 'function') {
    throw invalidOption('client', 'an ioredis Redis or Cluster client', client)
  }
  const channel = checkString('channel', raw.channel ?? 'hotpath:cache:bus')
  const maxQueue = checkInteger('maxQueue', raw.maxQueue ?? 1_000, { min: 1 })
  const isCluster = typeof client.nodes === 'function'
  let sharded = checkBoolean('sharded', raw.sharded ?? (isCluster && typeof client.spublish === 'function'))
  if (sharded && (!isCluster || typeof client.spublish !== 'function')) {
    throw invalidOption('sharded', 'false unless `client` is an ioredis Cluster', raw.sharded)
  }
  const queue = new Deque<string>()
  const stats: BusStats = {
    published: 0,
    received: 0,
    queued: 0,
    dropped: 0,
    resubscribes: 0,
    connected: false,
  }
  let subscriber: RedisSubscriberLike | undefined
  let handlers: BusHandlers | undefined
  let lostConnection = false
  let closed = false
  // The sender fields of the last message, for the reset message: not the message itself, which
  // would keep its key arrays alive.
  let sender: Pick<BusMessage, 'i' | 'n' | 's'> | undefined

  const enqueue = (payload: string) => {
    if (queue.size >= maxQueue && sender !== undefined) {
      // Dropping only the oldest would lose invalidations silently; one reset message tells
      // receivers to distrust everything they may have missed.
      stats.dropped += queue.size
      queue.clear()
      queue.push(JSON.stringify({ i: sender.i, n: sender.n, s: sender.s, r: 1 }))
    }
    queue.push(payload)
    stats.queued = queue.size
  }

  let retry: TimerHandle | undefined
  const send = (payload: string) => {
    stats.published++
    const sent = sharded ? client.spublish!(channel, payload) : client.publish(channel, payload)
    sent.catch((error: unknown) => {
      stats.published--
      if (closed) return
      if (sharded && unknownCommand(error)) sharded = false
      enqueue(payload)
      // A cluster client stays 'ready' through a failover: no 'ready' event will flush the queue.
      retry ??= schedule(() => {
        retry = undefined
        flush()
      }, RETRY_MS).unref()
    })
  }

  const flush = () => {
    while (queue.size > 0 && client.status === 'ready') send(queue.shift()!)
    stats.queued = queue.size
  }

  const onMessage = (from: string, payload: string) => {
    if (from !== channel || !handlers) return
    let message: unknown
    try {
      message = JSON.parse(payload)
    } catch {
      return
    }
    if (!isMessage(message)) return
    stats.received++
    handlers.message(message)
  }
  // SUBSCRIBE is sent on every 'ready' (first connection and each reconnection), so it never sits
  // in an offline queue; the cache hears about a resubscription only once it is confirmed.
  const onReady = () => {
    const sub = subscriber
    if (!sub || closed) return
    const subscribing = sharded ? sub.ssubscribe!(channel) : sub.subscribe(channel)
    subscribing.then(
      () => {
        if (closed) return
        stats.connected = true
        if (lostConnection) {
          lostConnection = false
          stats.resubscribes++
          handlers?.resubscribed()
        }
      },
      (error: unknown) => {
        if (sharded && unknownCommand(error) && !closed) {
          sharded = false
          onReady()
        }
      },
    )
  }
  // A sharded subscription lives on the master of the channel's slot: when that master is lost
  // ioredis drops its subscriber ('-subscriber') and opens one to the new master; the bus counts
  // it as a resubscription once SSUBSCRIBE is confirmed there ('subscribersReady').
  const onSubscribersReady = () => {
    if (!stats.connected) onReady()
  }
  const onClose = () => {
    if (stats.connected) lostConnection = true
    stats.connected = false
  }
  // The subscriber is a duplicate of the user's client and follows it: a client that ended for
  // good (quit, or no more retries) takes the subscriber with it.
  const onClientEnd = () => {
    subscriber?.disconnect()
    stats.connected = false
  }

  return {
    async start(h) {
      handlers = h
      client.on('ready', flush)
      client.on('end', onClientEnd)
      const sub = sharded
        ? (client.duplicate as (nodes: unknown[], options: object) => RedisSubscriberLike)([], {
            shardedSubscribers: true,
          })
        : client.duplicate()
      subscriber = sub
      sub.on('message', onMessage)
      sub.on('smessage', onMessage)
      sub.on('ready', onReady)
      sub.on('close', onClose)
      sub.on('-subscriber', onClose)
      sub.on('subscribersReady', onSubscribersReady)
      sub.on('error', () => {}) // errors surface through 'close' and reconnection
      if (sub.status === 'ready') onReady()
    },
    publish(message) {
      if (closed) return
      if (sender === undefined) sender = { i: message.i, n: message.n, s: message.s }
      else {
        sender.i = message.i
        sender.n = message.n
        sender.s = message.s
      }
      const payload = JSON.stringify(message)
      if (client.status === 'ready' && queue.size === 0) send(payload)
      else {
        enqueue(payload)
        if (client.status === 'ready') flush()
      }
    },
    stats: () => ({ ...stats }),
    async close() {
      if (closed) return
      closed = true
      client.off('ready', flush)
      client.off('end', onClientEnd)
      retry?.cancel()
      const sub = subscriber
      if (!sub) return
      sub.off('message', onMessage)
      sub.off('smessage', onMessage)
      sub.off('ready', onReady)
      sub.off('close', onClose)
      sub.off('-subscriber', onClose)
      sub.off('subscribersReady', onSubscribersReady)
      // A subscriber has nothing to flush, and QUIT could wait forever on a hung server.
      sub.disconnect()
      stats.connected = false
    },
  }
}
