import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { countMessages, openStore } from '../src/db'
import { runLoad } from '../src/load'
import type { ChatMessage, ServerMessage } from '../src/protocol'
import { formatReport } from '../src/report'
import { cleanup, connect, join, startServer } from './helpers'

afterEach(cleanup)

const isMessage = (m: ServerMessage): m is ChatMessage => m.type === 'message'

describe('chat room over WebSocket', () => {
  it('two clients in a room see each other’s messages; another room sees nothing', async () => {
    const server = await startServer()
    const alice = await connect(server, 'alice')
    const bob = await connect(server, 'bob')
    const carol = await connect(server, 'carol')
    await join(alice, 'lobby')
    await join(bob, 'lobby')
    await join(carol, 'kitchen')
    expect(alice.received).toContainEqual(
      expect.objectContaining({
        type: 'presence',
        room: 'lobby',
        user: 'bob',
        event: 'join',
        members: ['alice', 'bob'],
      }),
    )

    alice.send({ type: 'message', room: 'lobby', text: 'hi bob', ref: 'a1' })
    const atBob = await bob.next<ChatMessage>((m) => isMessage(m) && m.text === 'hi bob')
    expect(atBob.user).toMatchObject({ id: 'alice', name: 'alice' })
    expect(atBob.user.color).toMatch(/^#[0-9a-f]{6}$/)
    expect(atBob.room).toBe('lobby')
    // The sender gets its own message back with its ref (that is how clients confirm delivery).
    expect((await alice.next<ChatMessage>((m) => isMessage(m) && m.ref === 'a1')).text).toBe('hi bob')

    bob.send({ type: 'message', room: 'lobby', text: 'hi alice' })
    await alice.next((m) => isMessage(m) && m.text === 'hi alice')
    carol.send({ type: 'message', room: 'kitchen', text: 'anyone?' })
    await carol.next((m) => isMessage(m) && m.text === 'anyone?')
    expect(alice.received.filter(isMessage).map((m) => m.text)).toEqual(['hi bob', 'hi alice'])
    expect(carol.received.filter(isMessage).map((m) => m.text)).toEqual(['anyone?'])

    // Leaving: no more messages from the room, the others see the presence change.
    bob.send({ type: 'leave', room: 'lobby' })
    await bob.next((m) => m.type === 'left')
    expect(
      await alice.next((m) => m.type === 'presence' && m.event === 'leave' && m.user === 'bob'),
    ).toMatchObject({ members: ['alice'] })
    alice.send({ type: 'message', room: 'lobby', text: 'still there?' })
    await alice.next((m) => isMessage(m) && m.text === 'still there?')
    expect(bob.received.filter(isMessage).map((m) => m.text)).not.toContain('still there?')
    bob.send({ type: 'message', room: 'lobby', text: 'from outside', ref: 'b9' })
    const refused = await bob.next((m) => m.type === 'error')
    expect(refused).toMatchObject({ type: 'error', code: 'NOT_IN_ROOM', ref: 'b9' })
  })

  it('answers the 11th message within a minute with RATE_LIMITED and retryAfterMs; other users are not affected', async () => {
    const server = await startServer()
    expect(server.config.rateLimitPerMinute).toBe(10)
    const spammer = await connect(server, 'spammer')
    const other = await connect(server, 'other')
    await join(spammer, 'lobby')
    await join(other, 'lobby')
    for (let i = 1; i <= 12; i++)
      spammer.send({ type: 'message', room: 'lobby', text: `m${i}`, ref: `r${i}` })
    const errors = await spammer.count((m) => m.type === 'error', 2)
    await spammer.count((m) => isMessage(m) && m.user.id === 'spammer', 10)
    for (const [i, error] of errors.entries()) {
      expect(error).toMatchObject({ type: 'error', code: 'RATE_LIMITED', ref: `r${11 + i}` })
      const { retryAfterMs, message } = error as { retryAfterMs: number; message: string }
      expect(retryAfterMs).toBeGreaterThan(0)
      // The sliding window counts in 6 s segments: a unit leaves it 60 to 66 s after it was taken.
      expect(retryAfterMs).toBeLessThanOrEqual(66_000)
      expect(message).toMatch(/10 messages per minute/)
      // People get whole seconds, rounded up, never the raw milliseconds.
      expect(message).toMatch(/; retry in \d+ s\.$/)
      expect(message).toContain(`retry in ${Math.ceil(retryAfterMs / 1000)} s.`)
      expect(message).not.toMatch(/\d ms/)
    }
    // The 10 admitted messages reached the other member, the 2 refused ones did not.
    const seen = await other.count((m) => isMessage(m) && m.user.id === 'spammer', 10)
    expect(seen.map((m) => (m as ChatMessage).text)).toEqual(
      Array.from({ length: 10 }, (_, i) => `m${i + 1}`),
    )
    // The limit is per user: another user still sends.
    other.send({ type: 'message', room: 'lobby', text: 'my turn', ref: 'o1' })
    await other.next((m) => isMessage(m) && m.ref === 'o1')
    // A second connection of the same user shares the limit.
    const again = await connect(server, 'spammer')
    await join(again, 'lobby')
    again.send({ type: 'message', room: 'lobby', text: 'second tab', ref: 's1' })
    expect(await again.next((m) => m.type === 'error')).toMatchObject({ code: 'RATE_LIMITED', ref: 's1' })

    const stats = server.stats()
    expect(stats.rateLimited).toBe(3)
    expect(stats.limiter).toMatchObject({ allowed: 11, denied: 3 })
  })

  it('processes messages inside the semaphore: no slot within PROCESSING_TIMEOUT_MS gives BUSY', async () => {
    const server = await startServer({ PROCESSING_CONCURRENCY: '1', PROCESSING_TIMEOUT_MS: '100' })
    const alice = await connect(server, 'alice')
    await join(alice, 'lobby')
    // Hold the only processing slot, as a slow message would.
    const permit = await server.semaphore.acquire()
    alice.send({ type: 'message', room: 'lobby', text: 'stuck', ref: 'x1' })
    expect(await alice.next((m) => m.type === 'error')).toMatchObject({ code: 'BUSY', ref: 'x1' })
    expect(alice.received.filter(isMessage)).toHaveLength(0)
    permit.release()
    alice.send({ type: 'message', room: 'lobby', text: 'free again', ref: 'x2' })
    await alice.next((m) => isMessage(m) && m.ref === 'x2')
    const stats = server.stats()
    expect(stats.busy).toBe(1)
    expect(stats.semaphore).toMatchObject({ permits: 1, inUse: 0, timedOut: 1 })
  })

  it('tells the room when a member disconnects, and closes the room with its last member', async () => {
    const server = await startServer()
    const alice = await connect(server, 'alice')
    const bob = await connect(server, 'bob')
    await join(alice, 'lobby')
    await join(bob, 'lobby')
    await bob.close()
    expect(await alice.next((m) => m.type === 'presence' && m.event === 'leave')).toMatchObject({
      user: 'bob',
      members: ['alice'],
    })
    expect(server.stats()).toMatchObject({ connections: 1, rooms: 1 })
    await alice.close()
    await expect.poll(() => server.stats().rooms).toBe(0)
    expect(server.stats().connections).toBe(0)
  })

  it('closes a socket that stops answering pings and tells its room', async () => {
    const server = await startServer({ HEARTBEAT_MS: '50' })
    const alice = await connect(server, 'alice')
    const bob = await connect(server, 'bob')
    await join(alice, 'lobby')
    await join(bob, 'lobby')
    // A paused socket reads nothing, so it never sees a ping and never answers one.
    bob.ws.pause()
    expect(await alice.next((m) => m.type === 'presence' && m.event === 'leave', 5_000)).toMatchObject({
      user: 'bob',
    })
    expect(server.stats()).toMatchObject({ connections: 1, deadConnections: 1 })
    // Alice answers her pings and stays.
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(alice.ws.readyState).toBe(alice.ws.OPEN)
    bob.ws.terminate()
  })

  it('renders messages (masked words, links, markup, escaped HTML); long ones in the worker pool', async () => {
    const server = await startServer({ RENDER_OFFLOAD_CHARS: '100' })
    const alice = await connect(server, 'alice')
    await join(alice, 'lobby')
    const before = server.stats().workers
    expect(before).toMatchObject({ name: 'chat-render', maxThreads: 2, completed: 0, busy: 0, queued: 0 })

    alice.send({ type: 'message', room: 'lobby', text: 'short **bold** <b>damn</b>', ref: 's1' })
    const short = await alice.next<ChatMessage>((m) => isMessage(m) && m.ref === 's1')
    expect(short.text).toBe('short **bold** <b>****</b>')
    expect(short.html).toBe('short <strong>bold</strong> &lt;b&gt;****&lt;/b&gt;')
    expect(server.stats().workers.completed).toBe(0) // under 100 characters: rendered inline

    const long = `${'see https://example.com/a?b=1&c=2 and `code` '.repeat(3)}<script>alert(1)</script> crap`
    alice.send({ type: 'message', room: 'lobby', text: long, ref: 'l1' })
    const rendered = await alice.next<ChatMessage>((m) => isMessage(m) && m.ref === 'l1')
    expect(rendered.text.endsWith('<script>alert(1)</script> ****')).toBe(true)
    expect(rendered.html).toContain(
      '<a href="https://example.com/a?b=1&amp;c=2" rel="nofollow noopener noreferrer" target="_blank">',
    )
    expect(rendered.html).toContain('<code>code</code>')
    expect(rendered.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; ****')
    expect(rendered.html).not.toContain('<script>')
    const after = server.stats().workers
    expect(after).toMatchObject({ completed: 1, failed: 0, busy: 0 })
    expect(after.threads).toBeGreaterThanOrEqual(1)
    expect(after.utilization).toBeGreaterThan(0)
    // A later member gets the rendered history.
    const history = await connect(server, 'bob')
    history.send({ type: 'join', room: 'lobby' })
    const joined = await history.next((m) => m.type === 'joined')
    expect((joined as { history: ChatMessage[] }).history.map((m) => m.html)).toEqual([
      short.html,
      rendered.html,
    ])
  })

  it('takes the limit from RATE_LIMIT_PER_MINUTE', async () => {
    const server = await startServer({ RATE_LIMIT_PER_MINUTE: '3' })
    const alice = await connect(server, 'alice')
    await join(alice, 'lobby')
    for (let i = 0; i < 4; i++) alice.send({ type: 'message', room: 'lobby', text: `m${i}`, ref: `r${i}` })
    expect(await alice.next((m) => m.type === 'error')).toMatchObject({ code: 'RATE_LIMITED', ref: 'r3' })
  })

  it('writes every broadcast message in batches; nothing is lost at shutdown', async () => {
    // A long write delay keeps every message pending until the shutdown has to write it.
    const server = await startServer({
      RATE_LIMIT_PER_MINUTE: '1000',
      WRITE_DELAY_MS: '60000',
      WRITE_BATCH_SIZE: '64',
    })
    const users = await Promise.all(['u1', 'u2', 'u3', 'u4'].map((u) => connect(server, u)))
    for (const user of users) await join(user, 'archive')
    const perUser = 50
    for (const [u, user] of users.entries()) {
      for (let i = 0; i < perUser; i++) user.send({ type: 'message', room: 'archive', text: `u${u} #${i}` })
    }
    await Promise.all(
      users.map((user) =>
        user.count((m) => isMessage(m) && m.user.id === `u${users.indexOf(user) + 1}`, perUser),
      ),
    )
    const total = users.length * perUser
    // Full batches of 64 went out; the rest waits for the delay.
    const before = server.writer.stats()
    expect(before.keys + before.pending + before.inFlight).toBeGreaterThanOrEqual(total - 64)
    expect(before.pending).toBeGreaterThan(0)

    // More messages sent right before the shutdown, without waiting for their broadcast.
    for (let i = 0; i < 20; i++) users[0]!.send({ type: 'message', room: 'archive', text: `late ${i}` })
    await users[0]!.next((m) => isMessage(m) && m.text === 'late 0')
    await server.close()
    const { broadcast } = server.stats().messages
    expect(broadcast).toBeGreaterThanOrEqual(total + 1)
    const after = server.writer.stats()
    expect(after).toMatchObject({ pending: 0, inFlight: 0, failedBatches: 0, keys: broadcast })
    expect(after.batches).toBe(Math.ceil(broadcast / 64))

    // Independent of the server's own counters: every message another client saw is stored.
    const seen = users[1]!.received.filter(isMessage).map((m) => m.text)
    expect(seen.length).toBeGreaterThanOrEqual(total + 1)

    const store = openStore(server.config)
    try {
      expect(await countMessages(store.db, 'archive')).toBe(broadcast)
      const stored = new Set(
        (await store.db.selectFrom('messages').select('body').execute()).map((row) => row.body),
      )
      expect(seen.filter((text) => !stored.has(text))).toEqual([])
      const last = await store.db
        .selectFrom('messages')
        .select(['user_id', 'body'])
        .where('body', '=', 'u3 #49')
        .executeTakeFirst()
      expect(last).toEqual({ user_id: 'u4', body: 'u3 #49' })
    } finally {
      await store.destroy()
    }
  })

  it('sends recent history on join, from memory and after a restart from the database', async () => {
    const first = await startServer()
    const alice = await connect(first, 'alice')
    await join(alice, 'history')
    for (let i = 0; i < 3; i++) alice.send({ type: 'message', room: 'history', text: `old ${i}` })
    await alice.count((m) => isMessage(m), 3)
    const bob = await connect(first, 'bob')
    bob.send({ type: 'join', room: 'history' })
    const joined = await bob.next((m) => m.type === 'joined')
    expect(joined).toMatchObject({ members: ['alice', 'bob'] })
    expect((joined as { history: ChatMessage[] }).history.map((m) => m.text)).toEqual([
      'old 0',
      'old 1',
      'old 2',
    ])
    await first.close()

    const second = await startServer({ SQLITE_FILE: first.config.sqliteFile })
    const carol = await connect(second, 'carol')
    carol.send({ type: 'join', room: 'history' })
    const restored = (await carol.next((m) => m.type === 'joined')) as { history: ChatMessage[] }
    expect(restored.history.map((m) => [m.user.id, m.text])).toEqual([
      ['alice', 'old 0'],
      ['alice', 'old 1'],
      ['alice', 'old 2'],
    ])
  })

  it('caches profiles: one load per user, every later message is a cache hit', async () => {
    const server = await startServer({ RATE_LIMIT_PER_MINUTE: '100' })
    const alice = await connect(server, 'alice')
    const bob = await connect(server, 'bob')
    await join(alice, 'lobby')
    await join(bob, 'lobby')
    for (let i = 0; i < 20; i++) {
      alice.send({ type: 'message', room: 'lobby', text: `a${i}` })
      bob.send({ type: 'message', room: 'lobby', text: `b${i}` })
    }
    await alice.count((m) => isMessage(m), 40)
    const { cache } = server.stats()
    expect(cache.loads).toBe(2)
    expect(cache.misses).toBe(2)
    expect(cache.hits).toBe(40)
    expect(cache.hitRate).toBeCloseTo(40 / 42, 5)
  })

  it('rejects bad frames and bad user names with clear errors', async () => {
    const server = await startServer()
    const alice = await connect(server, 'alice')
    alice.ws.send('not json')
    expect(await alice.next((m) => m.type === 'error')).toMatchObject({
      code: 'BAD_REQUEST',
      message: 'Frames must be JSON.',
    })
    alice.send({ type: 'join', room: 'no spaces allowed' })
    expect((await alice.count((m) => m.type === 'error', 2))[1]).toMatchObject({ code: 'BAD_REQUEST' })
    alice.send({ type: 'message', room: 'lobby', text: 'x'.repeat(2_001) })
    expect((await alice.count((m) => m.type === 'error', 3))[2]).toMatchObject({ code: 'BAD_REQUEST' })
    // Bad frames do not count against the rate limit.
    expect(server.stats().limiter.allowed + server.stats().limiter.denied).toBe(0)

    const bad = new WebSocket(`${server.wsUrl}?user=${encodeURIComponent('no spaces')}`)
    const [code, reason] = await new Promise<[number, string]>((resolve) =>
      bad.once('close', (c, r) => resolve([c, r.toString()])),
    )
    expect(code).toBe(1008)
    expect(reason).toMatch(/user/)
  })

  it('serves the page, /stats and /metrics', async () => {
    const server = await startServer()
    const page = await fetch(server.url)
    expect(page.headers.get('content-type')).toMatch(/text\/html/)
    expect(await page.text()).toContain('Live metrics')
    expect((await fetch(`${server.url}/app.js`)).status).toBe(200)
    expect((await fetch(`${server.url}/../package.json`)).status).toBe(404)
    const alice = await connect(server, 'alice')
    await join(alice, 'lobby')
    alice.send({ type: 'message', room: 'lobby', text: 'hello' })
    await alice.next((m) => isMessage(m))
    const stats = (await (await fetch(`${server.url}/stats?advice`)).json()) as Record<string, unknown>
    expect(stats).toMatchObject({
      connections: 1,
      rooms: 1,
      messages: { received: 2, broadcast: 1, delivered: 1 },
      latency: { count: 1 },
      rateLimited: 0,
      semaphore: { acquired: 1, permits: 64 },
      workers: { name: 'chat-render', maxThreads: 2, busy: 0, queued: 0 },
      database: { kind: 'sqlite' },
    })
    expect(Array.isArray(stats.advice)).toBe(true)
    const metrics = await (await fetch(`${server.url}/metrics`)).text()
    expect(metrics).toMatch(/chat_message_duration/)
    expect(metrics).toMatch(/chat_messages_total\{outcome="broadcast"\} 1/)
    // The render pool, through registry.collect().
    expect(metrics).toMatch(/hotpath_workers_max_threads\{[^}]*name="chat-render"[^}]*\} 2/)
  })
})

describe('load driver', () => {
  it('drives clients and spammers, and the report shows percentiles, limits and batched writes', async () => {
    const server = await startServer({ RATE_LIMIT_PER_MINUTE: '10', WRITE_DELAY_MS: '50' })
    const result = await runLoad({
      wsUrl: server.wsUrl,
      durationMs: 1_500,
      clients: 6,
      rooms: 2,
      ratePerClient: 5,
      spammers: 1,
    })
    expect(result.sent).toBeGreaterThan(20)
    expect(result.echoed).toBeGreaterThan(10)
    expect(result.rateLimited).toBeGreaterThan(0)
    expect(result.unanswered).toBe(0)
    expect(result.echoed + result.rateLimited).toBe(result.sent)
    expect(result.deliveries).toBeGreaterThan(result.echoed)
    await server.close()
    const stats = server.stats()
    expect(stats.writer.keys).toBe(result.echoed)
    const report = formatReport(result, stats, stats.writer.keys)
    expect(report).toMatch(/p50\s+\d+\.\d ms/)
    expect(report).toMatch(/p99\s+\d+\.\d ms/)
    expect(report).toMatch(/hit rate\s+\d+\.\d%/)
    expect(report).toMatch(/denied\s+[1-9]/)
    expect(report).toMatch(/batches\s+[1-9]/)
  })
})
