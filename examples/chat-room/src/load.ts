import { ProgressBar } from '@hotpath/example-kit'
import { createRegistry } from '@hotpath/metrics'
import WebSocket from 'ws'
import type { ServerMessage } from './protocol'

/** Options of {@link runLoad}. */
export interface LoadOptions {
  /** WebSocket URL of the server (`ws://host:port/ws`). */
  wsUrl: string
  /** How long to send, ms. */
  durationMs: number
  /** Well-behaved clients (one user each). */
  clients: number
  /** Rooms the clients are spread over. */
  rooms: number
  /**
   * Messages per second each well-behaved client sends; 0 sends the next message as soon as the
   * previous one came back (closed loop). A rate-limited client waits `retryAfterMs`.
   */
  ratePerClient: number
  /** Extra clients that send 20 messages/s and ignore `retryAfterMs`: they show the rate limit. */
  spammers: number
  /** Show a progress bar. */
  progress?: boolean
}

/** What a load run measured on the client side. */
export interface LoadResult {
  durationMs: number
  /** Messages sent (all clients). */
  sent: number
  /** Own messages that came back as broadcasts. */
  echoed: number
  /** Messages of other users received (the room fan-out). */
  deliveries: number
  rateLimited: number
  busy: number
  /** Sent messages with no answer when the run ended. */
  unanswered: number
  /** Echoed messages per second. */
  throughput: number
  /** Deliveries (own echoes included) per second. */
  deliveryRate: number
  /** Round trip of a message: sent → its broadcast back to the sender, ms. */
  latency: { p50: number; p95: number; p99: number; max: number; mean: number }
}

interface LoadClient {
  ws: WebSocket
  user: string
  room: string
  spammer: boolean
  pending: Map<string, number>
  seq: number
  nextAt: number
  pausedUntil: number
}

const SPAM_RATE = 20
const MAX_IN_FLIGHT = 32

function open(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url)
    ws.once('open', () => resolve(ws))
    ws.once('error', reject)
  })
}

/**
 * Connects `clients + spammers` WebSocket clients, joins them to rooms, drives messages for
 * `durationMs` and measures each message's round trip with an HDR histogram.
 *
 * @example
 * const result = await runLoad({ wsUrl: 'ws://127.0.0.1:8090/ws', durationMs: 20_000, clients: 50, rooms: 5, ratePerClient: 2, spammers: 2 })
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const { wsUrl, durationMs, rooms, ratePerClient } = options
  const registry = createRegistry()
  const latency = registry.histogram('load_round_trip', { unit: 'ms' }).with({})
  const counts = { sent: 0, echoed: 0, deliveries: 0, rateLimited: 0, busy: 0 }
  const run = `${process.pid.toString(36)}${Date.now().toString(36).slice(-4)}`
  const texts = Array.from({ length: 64 }, (_, i) => `load message ${i} ${'x'.repeat(i % 40)}`)

  let sending = true
  const total = options.clients + options.spammers
  const clients: LoadClient[] = []
  for (let i = 0; i < total; i++) {
    const user = `load-${run}-${i}`
    const ws = await open(`${wsUrl}?user=${user}`)
    const client: LoadClient = {
      ws,
      user,
      room: `load-${i % Math.max(1, rooms)}`,
      spammer: i >= options.clients,
      pending: new Map(),
      seq: 0,
      nextAt: 0,
      pausedUntil: 0,
    }
    clients.push(client)
  }
  // Join every room and wait for the confirmations before the clock starts.
  await Promise.all(
    clients.map(
      (client) =>
        new Promise<void>((resolve) => {
          client.ws.on('message', (data) => {
            const message = JSON.parse(data.toString()) as ServerMessage
            if (message.type === 'joined') resolve()
            else if (message.type === 'message') onMessage(client, message.user.id, message.ref)
            else if (message.type === 'error')
              onError(client, message.code, message.ref, message.retryAfterMs)
          })
          client.ws.send(JSON.stringify({ type: 'join', room: client.room }))
        }),
    ),
  )

  function onMessage(client: LoadClient, from: string, ref: string | undefined): void {
    if (from !== client.user || ref === undefined) {
      counts.deliveries++
      return
    }
    const t0 = client.pending.get(ref)
    if (t0 === undefined) return
    client.pending.delete(ref)
    counts.echoed++
    latency.record(performance.now() - t0)
    if (ratePerClient === 0 && !client.spammer && sending) send(client)
  }
  function onError(client: LoadClient, code: string, ref: string | undefined, retryAfterMs?: number): void {
    if (ref !== undefined) client.pending.delete(ref)
    if (code === 'RATE_LIMITED') {
      counts.rateLimited++
      if (!client.spammer) {
        client.pausedUntil = performance.now() + (retryAfterMs ?? 1_000)
        if (ratePerClient === 0) {
          setTimeout(() => sending && send(client), retryAfterMs ?? 1_000).unref()
        }
      }
    } else if (code === 'BUSY') {
      counts.busy++
      if (ratePerClient === 0 && sending) setTimeout(() => sending && send(client), 10).unref()
    }
  }
  function send(client: LoadClient): void {
    if (client.pending.size >= MAX_IN_FLIGHT || client.ws.readyState !== WebSocket.OPEN) return
    const ref = String(++client.seq)
    client.pending.set(ref, performance.now())
    client.ws.send(
      JSON.stringify({ type: 'message', room: client.room, text: texts[client.seq % texts.length], ref }),
    )
    counts.sent++
  }

  const started = performance.now()
  const deadline = started + durationMs
  const bar = options.progress ? new ProgressBar(durationMs) : undefined
  // Well-behaved clients start spread over the first second; spammers start at once.
  for (const client of clients) client.nextAt = started + (client.spammer ? 0 : Math.random() * 1_000)
  if (ratePerClient === 0) for (const client of clients) if (!client.spammer) send(client)

  // One ticker paces every open-loop client (no timer per client).
  await new Promise<void>((resolve) => {
    let lastBar = 0
    const tick = setInterval(() => {
      const now = performance.now()
      if (now >= deadline) {
        clearInterval(tick)
        resolve()
        return
      }
      for (const client of clients) {
        const rate = client.spammer ? SPAM_RATE : ratePerClient
        if (rate === 0) continue
        // A late tick catches up (a few sends at most), so a busy machine does not lower the rate.
        for (let n = 0; n < 10 && now >= client.nextAt; n++) {
          client.nextAt += 1_000 / rate
          if (now >= client.pausedUntil) send(client)
        }
      }
      if (bar && now - lastBar >= 250) {
        lastBar = now
        const elapsed = now - started
        bar.update(
          elapsed,
          `${counts.sent} sent, ${Math.round((counts.echoed * 1000) / Math.max(1, elapsed))} msg/s`,
        )
      }
    }, 5)
  })
  sending = false
  const elapsed = performance.now() - started
  bar?.update(durationMs, `${counts.sent} sent`)
  bar?.done()

  // Answers still on their way get up to 2 s.
  const waitUntil = performance.now() + 2_000
  while (clients.some((c) => c.pending.size > 0) && performance.now() < waitUntil) {
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  const unanswered = clients.reduce((n, c) => n + c.pending.size, 0)
  await Promise.all(
    clients.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.ws.readyState === WebSocket.CLOSED) return resolve()
          c.ws.once('close', () => resolve())
          c.ws.close()
        }),
    ),
  )
  const stats = latency.stats()
  return {
    durationMs: elapsed,
    ...counts,
    unanswered,
    throughput: (counts.echoed * 1000) / elapsed,
    deliveryRate: ((counts.deliveries + counts.echoed) * 1000) / elapsed,
    latency: { p50: stats.p50, p95: stats.p95, p99: stats.p99, max: stats.max, mean: stats.mean },
  }
}
