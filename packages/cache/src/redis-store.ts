import { createHash } from 'node:crypto'
import {
  checkInteger,
  checkKnownOptions,
  checkOptionsObject,
  checkString,
  invalidOption,
} from '@hotpath/core'
import { keySlot } from './key-slot'
import type { RedisClientLike, RedisPipelineLike } from './redis-client'
import { canTrack, redisTracking } from './redis-tracking'
import type { CacheStore, StoredValue, StoreSwap, StoreWrite } from './store'

/**
 * Options of {@link redisStore}.
 *
 * @example
 * const options: RedisStoreOptions = { client, prefix: 'router:', scanCount: 1_000 }
 * const cache = createCache({ l2: redisStore(options) })
 */
export interface RedisStoreOptions {
  /**
   * An ioredis `Redis` or `Cluster` client. It stays yours: the store never closes it. Create it
   * with `enableOfflineQueue: false` (or rely on the status check) so no command waits for a
   * reconnection.
   */
  client: RedisClientLike
  /**
   * Prefix of every key the store writes.
   * @default 'hotpath:'
   */
  prefix?: string
  /**
   * Keys per SCAN step and per UNLINK call in `clear()`.
   * @default 500
   */
  scanCount?: number
}

/** Option names of {@link RedisStoreOptions}. */
export const REDIS_STORE_OPTIONS = ['client', 'prefix', 'scanCount'] as const

/** Entries per script call in `setMany` (bounds how long one call holds Redis). */
const SET_BATCH = 500

// Sets KEYS[i] to ARGV[2i] with a PX ttl of ARGV[2i-1]: a whole batch in one command, one round trip.
const SET_MANY_SCRIPT = `for i = 1, #KEYS do
  redis.call('SET', KEYS[i], ARGV[i * 2], 'PX', ARGV[i * 2 - 1])
end
return #KEYS`

// Writes KEYS[1] (value ARGV[3], PX ttl ARGV[2]; deletes it when ARGV[2] is empty) only while it
// still holds what was read: an entry whose SHA-1 is ARGV[1], or nothing when ARGV[1] is empty.
// Returns 1 when applied, 0 when the key changed since it was read.
const SWAP_SCRIPT = `local current = redis.call('GET', KEYS[1])
if current then
  if redis.sha1hex(current) ~= ARGV[1] then return 0 end
elseif ARGV[1] ~= '' then
  return 0
end
if ARGV[2] == '' then
  redis.call('UNLINK', KEYS[1])
else
  redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[2])
end
return 1`
const SWAP_SHA = createHash('sha1').update(SWAP_SCRIPT).digest('hex')

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&')
}

/**
 * L2 on Redis through ioredis (standalone or Cluster). On a single server it also offers tracking
 * (`createCache({ invalidation: 'tracking' })`), on a connection of its own that follows `client`. Values travel as binary (`getBuffer`,
 * `mgetBuffer`); `getMany` is one MGET (on a cluster one per hash slot, sent as one pipeline per node); nothing is sent while the
 * client is not `ready`, so no call waits on ioredis's offline queue: a call made while the client
 * connects waits for it within `l2Timeout`.
 *
 * @example
 * import Redis from 'ioredis'
 * import { redisStore } from '@hotpath/cache/redis'
 * const client = new Redis({ enableOfflineQueue: false, maxRetriesPerRequest: 1 })
 * const cache = createCache({ l2: redisStore({ client, prefix: 'router:' }) })
 */
export function redisStore(options: RedisStoreOptions): CacheStore {
  const raw = checkOptionsObject('options', options)
  checkKnownOptions('redisStore()', raw, REDIS_STORE_OPTIONS)
  if (!raw.client || typeof raw.client.getBuffer !== 'function') {
    throw invalidOption('client', 'an ioredis Redis or Cluster client', raw.client)
  }
  const client: RedisClientLike = raw.client
  const prefix = checkString('prefix', raw.prefix ?? 'hotpath:', { allowEmpty: true })
  const scanCount = checkInteger('scanCount', raw.scanCount ?? 500, { min: 1 })
  const cluster = typeof client.nodes === 'function'
  const tagKey = (tag: string) => `${prefix}~tag:${tag}`
  const bytes = (value: StoredValue) =>
    typeof value === 'string' || Buffer.isBuffer(value)
      ? value
      : Buffer.from(value.buffer, value.byteOffset, value.byteLength)

  /** Indices of `keys` grouped by hash slot on a cluster (one group on a single server). */
  function bySlot(keys: readonly string[]): number[][] {
    return cluster ? [...slotGroups(keys).values()] : [keys.map((_, i) => i)]
  }

  function slotGroups(keys: readonly string[]): Map<number, number[]> {
    const groups = new Map<number, number[]>()
    keys.forEach((key, i) => {
      const slot = keySlot(key)
      const group = groups.get(slot)
      if (group) group.push(i)
      else groups.set(slot, [i])
    })
    return groups
  }

  /**
   * MGET in one call; on a cluster one MGET per hash slot, those of one node sent as one pipeline
   * (a round trip per node rather than per slot). Results in key order.
   */
  async function mget<R>(
    keys: string[],
    call: (keys: string[]) => Promise<R[]>,
    queue?: (pipeline: RedisPipelineLike, keys: string[]) => void,
  ): Promise<R[]> {
    if (!cluster) return call(keys)
    const out: R[] = new Array(keys.length)
    const fill = (indices: number[], values: R[]) => {
      indices.forEach((index, j) => {
        out[index] = values[j]!
      })
    }
    const one = async (indices: number[]) => fill(indices, await call(indices.map((i) => keys[i]!)))
    const groups = slotGroups(keys)
    const table = client.slots
    if (queue === undefined || typeof client.pipeline !== 'function' || !Array.isArray(table)) {
      await Promise.all([...groups.values()].map(one))
      return out
    }
    const byNode = new Map<string, number[][]>()
    for (const [slot, indices] of groups) {
      const node = table[slot]?.join(';') ?? ''
      const list = byNode.get(node)
      if (list) list.push(indices)
      else byNode.set(node, [indices])
    }
    await Promise.all(
      [...byNode.values()].map(async (slots) => {
        if (slots.length === 1) return one(slots[0]!)
        const pipeline = client.pipeline!()
        for (const indices of slots)
          queue(
            pipeline,
            indices.map((i) => keys[i]!),
          )
        // A stale slot table (resharding) fails the pipeline or some of its replies: those slots
        // are asked again one by one, and the client follows the redirections.
        const replies = await pipeline.exec().catch(() => null)
        await Promise.all(
          slots.map((indices, g) => {
            const reply = replies?.[g]
            return reply && !reply[0] ? fill(indices, reply[1] as R[]) : one(indices)
          }),
        )
      }),
    )
    return out
  }

  /** EVALSHA, loading the script with EVAL on the node that does not have it yet. */
  async function runScript(
    script: string,
    sha: string,
    numKeys: number,
    args: (string | Buffer)[],
  ): Promise<unknown> {
    try {
      return await client.evalsha(sha, numKeys, ...args)
    } catch (error) {
      if (!String((error as Error)?.message).startsWith('NOSCRIPT')) throw error
      return client.eval(script, numKeys, ...args)
    }
  }

  /** One script call per change, all sent in the same tick (one round trip per connection). */
  async function swap(swaps: readonly StoreSwap[]): Promise<boolean[]> {
    const calls = swaps.map(({ key, expected, value, ttl }) => {
      const digest = expected === null ? '' : createHash('sha1').update(bytes(expected)).digest('hex')
      const args: (string | Buffer)[] =
        value === null ? [digest, ''] : [digest, String(Math.max(1, Math.ceil(ttl))), bytes(value)]
      return runScript(SWAP_SCRIPT, SWAP_SHA, 1, [prefix + key, ...args])
    })
    return (await Promise.all(calls)).map((applied) => Number(applied) === 1)
  }

  async function clearNode(node: RedisClientLike, pattern: string): Promise<void> {
    let cursor = '0'
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', scanCount)
      cursor = next
      if (keys.length === 0) continue
      if (cluster) await Promise.all(keys.map((key) => client.unlink(key)))
      else await client.unlink(...keys)
    } while (cursor !== '0')
  }

  // One 'ready' listener shared by every call waiting for the connection, however many there are.
  let connected: Promise<void> | undefined
  const whenReady = (): Promise<void> => {
    if (client.status === 'ready') return Promise.resolve()
    if (connected === undefined) {
      connected = new Promise<void>((resolve) => {
        const onReady = () => {
          client.off('ready', onReady)
          connected = undefined
          resolve()
        }
        client.on('ready', onReady)
      })
    }
    return connected
  }

  // Tracking is per node on a cluster, where it is not offered: `invalidation: 'tracking'` is then
  // refused by createCache.
  const track = canTrack(client)
    ? (prefixes: { keys: string; tags: string }) =>
        redisTracking(
          client,
          { keys: prefix + prefixes.keys, tags: tagKey(prefixes.tags) },
          { keys: prefix.length, tags: tagKey('').length },
        )
    : undefined

  return Object.freeze({
    kind: 'redis',
    ...(track === undefined ? {} : { track }),
    ready: () => client.status === 'ready',
    whenReady,
    get: (key: string) => client.getBuffer(prefix + key),
    getMany: (keys: readonly string[]) =>
      mget(
        keys.map((key) => prefix + key),
        (group) => client.mgetBuffer(group),
        (pipeline, group) => pipeline.mgetBuffer(group),
      ),
    async set(key: string, value: StoredValue, ttl: number) {
      await client.set(prefix + key, bytes(value), 'PX', Math.max(1, Math.ceil(ttl)))
    },
    async setMany(writes: readonly StoreWrite[]) {
      // One script call per batch (per hash slot on a cluster, where a script may only touch one
      // slot); all calls are sent in the same tick, so they share one round trip per connection.
      if (writes.length === 0) return
      const calls: Promise<unknown>[] = []
      for (const indices of bySlot(writes.map((w) => prefix + w.key))) {
        for (let i = 0; i < indices.length; i += SET_BATCH) {
          const batch = indices.slice(i, i + SET_BATCH)
          const args: (string | Buffer)[] = batch.map((j) => prefix + writes[j]!.key)
          for (const j of batch) {
            const w = writes[j]!
            args.push(String(Math.max(1, Math.ceil(w.ttl))), bytes(w.value))
          }
          // Always EVAL, never EVALSHA: a NOSCRIPT retry would send the batch one round trip
          // later, after a `set` of the same key issued meanwhile, and overwrite the newer value.
          // The script's text is small beside a batch's values.
          calls.push(client.eval(SET_MANY_SCRIPT, batch.length, ...args))
        }
      }
      await Promise.all(calls)
    },
    compareAndSet: swap,
    async delete(keys: readonly string[]) {
      if (keys.length === 0) return
      if (cluster) await Promise.all(keys.map((key) => client.unlink(prefix + key)))
      else await client.unlink(...keys.map((key) => prefix + key))
    },
    async clear(keyPrefix: string) {
      const pattern = `${escapeGlob(prefix + keyPrefix)}*`
      const nodes = cluster ? client.nodes!('master') : [client]
      await Promise.all(nodes.map((node) => clearNode(node, pattern)))
    },
    async getTagVersions(tags: readonly string[]) {
      const values = await mget(tags.map(tagKey), (group) => client.mget(group))
      return values.map((value) => (value === null ? 0 : Number(value)))
    },
    bumpTagVersions: (tags: readonly string[]) => Promise.all(tags.map((tag) => client.incr(tagKey(tag)))),
  } satisfies CacheStore)
}
