// One instance of the cache-coherence scenario, run as its own process (child_process.fork): a
// hotpath cache with L1 + Redis L2 + Redis bus, driven by the parent over IPC. It runs its share of
// the read/write workload, answers probes (polls one key until a new version shows), and reports
// everything it saw, with times on the shared wall clock (performance.timeOrigin + now()).
import { subscribe } from 'node:diagnostics_channel'
import { cacheChannels, createCache } from '@hotpath/cache'
import { redisBus, redisStore } from '@hotpath/cache/redis'
import { Redis } from 'ioredis'

export interface InitMessage {
  type: 'init'
  id: number
  processes: number
  url: string
  prefix: string
  keys: number
  probeKeys: number
  /** Operations per second this process starts (reads + writes). */
  rate: number
  writeShare: number
}

/** A value as stored: who wrote it and its sequence number for that key (one writer per key). */
interface Stamped {
  w: number
  s: number
}

const now = () => performance.timeOrigin + performance.now()
const send = (message: unknown) => process.send!(message)

let init: InitMessage
let cache: ReturnType<typeof createCache>
let client: Redis
/** Last sequence written, per key this process owns. */
const seqs = new Map<string, number>()
const writing = new Set<string>()
/** Reads: key index, start, end, version seen (-1: miss). */
const reads: number[] = []
/** Writes: key index, sequence, start, ack. */
const writes: number[] = []
/** Bus messages received: key index, time. */
const received: number[] = []
/** State changes: time, recovery queue size, bus connected (1/0). */
const states: number[] = []
let running = false
let inFlight = 0
let errors = 0

const keyName = (i: number) => `k${i}`
const keyIndex = (name: string) => {
  const match = /:k(\d+)$/.exec(name)
  return match ? Number(match[1]) : -1
}

async function write(key: string): Promise<{ seq: number; start: number; ack: number }> {
  writing.add(key)
  const seq = (seqs.get(key) ?? 0) + 1
  seqs.set(key, seq)
  const start = now()
  try {
    await cache.set(key, { w: init.id, s: seq } satisfies Stamped)
  } finally {
    writing.delete(key)
  }
  const ack = now()
  if (key.startsWith('k')) writes.push(Number(key.slice(1)), seq, start, ack)
  return { seq, start, ack }
}

async function read(key: string): Promise<number> {
  const value = (await cache.get(key)) as Stamped | undefined
  return value === undefined ? -1 : value.s
}

function owned(): number[] {
  const keys: number[] = []
  for (let i = init.id; i < init.keys; i += init.processes) keys.push(i)
  return keys
}

async function op(mine: number[]): Promise<void> {
  inFlight++
  try {
    if (Math.random() < init.writeShare) {
      let index = mine[Math.floor(Math.random() * mine.length)]!
      // One write per key at a time: sequences of a key are acknowledged in order.
      for (let tries = 0; writing.has(keyName(index)) && tries < 8; tries++)
        index = mine[Math.floor(Math.random() * mine.length)]!
      if (writing.has(keyName(index))) return
      await write(keyName(index))
    } else {
      const index = Math.floor(Math.random() * init.keys)
      const start = now()
      const version = await read(keyName(index))
      reads.push(index, start, now(), version)
    }
  } catch {
    errors++
  } finally {
    inFlight--
  }
}

/** Starts operations at a fixed rate (open loop) until stopped; at most 500 in flight. */
function drive(): void {
  const mine = owned()
  const started = performance.now()
  let issued = 0
  const tick = () => {
    if (!running) return
    const due = Math.floor(((performance.now() - started) / 1000) * init.rate)
    while (issued < due) {
      issued++
      if (inFlight < 500) void op(mine)
    }
    setTimeout(tick, 2)
  }
  tick()
}

function watchState(): void {
  let last = ''
  const sample = () => {
    const stats = cache.stats()
    const queued = stats.recovery.queued
    const connected = stats.bus?.connected ? 1 : 0
    const state = `${queued}/${connected}`
    if (state !== last) {
      last = state
      states.push(now(), queued, connected)
    }
  }
  sample()
  setInterval(sample, 5).unref()
}

/** Polls `key` every ~1 ms until a version above the one first seen shows, or `timeout` ms. */
async function probe(key: string, timeout: number): Promise<void> {
  const polls: number[] = []
  const first = now()
  const initial = await read(key)
  polls.push(first, initial)
  send({ type: 'probing', key, version: initial })
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 1))
    const start = now()
    let version: number
    try {
      version = await read(key)
    } catch {
      version = -2
    }
    polls.push(start, version)
    if (version > initial || start - first > timeout) break
  }
  send({ type: 'probed', key, polls })
}

// The parent is gone (it failed or was stopped): nothing is left to report to.
process.on('disconnect', () => process.exit(0))

process.on('message', async (message: { type: string; [field: string]: unknown }) => {
  switch (message.type) {
    case 'init': {
      init = message as unknown as InitMessage
      client = new Redis(init.url, { enableOfflineQueue: false, maxRetriesPerRequest: 1 })
      // Connection errors while the server is down are expected; the cache counts what they cost.
      client.on('error', () => {})
      cache = createCache({
        namespace: 'coherence',
        l1: { maxEntries: 10_000 },
        l2: redisStore({ client, prefix: init.prefix }),
        bus: redisBus({ client }),
        ttl: '1h',
        // The machine this runs on may be loaded: a GET waiting behind a busy event loop should not
        // open the breaker and turn the run into an outage of its own.
        l2Timeout: '1s',
      })
      subscribe(cacheChannels.bus, (m) => {
        const t = now()
        const keys = (m as { message: { k?: string[] } }).message.k
        if (keys) for (const key of keys) received.push(keyIndex(key), t)
      })
      // Every key this process owns gets a first value before the clock starts.
      const mine = owned()
      for (let i = 0; i < mine.length; i += 50)
        await Promise.all(mine.slice(i, i + 50).map((index) => write(keyName(index))))
      for (let j = init.id; j < init.probeKeys; j += init.processes) await write(`p${j}`)
      watchState()
      send({ type: 'ready' })
      break
    }
    case 'clock':
      send({ type: 'clock', at: now() })
      break
    case 'start':
      running = true
      drive()
      break
    case 'stop':
      running = false
      break
    case 'probe':
      void probe(message.key as string, message.timeout as number)
      break
    case 'probe-write': {
      const { seq, ack } = await write(message.key as string)
      send({ type: 'probe-written', key: message.key, seq, ack })
      break
    }
    case 'report': {
      const stats = cache.stats()
      send({
        type: 'report',
        reads,
        writes,
        received,
        states,
        errors,
        l2: stats.l2,
        bus: stats.bus,
        recovery: stats.recovery,
      })
      break
    }
    case 'close':
      await cache.close().catch(() => {})
      client.disconnect()
      process.exit(0)
  }
})
