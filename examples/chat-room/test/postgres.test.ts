import { needService, tempPgSchema } from '@hotpath/test-utils'
import { afterEach, describe, expect, it } from 'vitest'
import { countMessages, openStore } from '../src/db'
import type { ChatMessage, ServerMessage } from '../src/protocol'
import { cleanup, connect, join, startServer } from './helpers'

afterEach(cleanup)

const isMessage = (m: ServerMessage): m is ChatMessage => m.type === 'message'

describe.runIf(await needService('postgres'))('chat room on PostgreSQL (DATABASE_URL)', () => {
  it('persists every broadcast message in batches and restores history after a restart', async () => {
    const temp = await tempPgSchema()
    try {
      const env = { DATABASE_URL: temp.url, RATE_LIMIT_PER_MINUTE: '100', WRITE_DELAY_MS: '60000' }
      const server = await startServer(env)
      expect(server.stats().database.kind).toBe('postgres')
      const alice = await connect(server, 'alice')
      const bob = await connect(server, 'bob')
      await join(alice, 'pg')
      await join(bob, 'pg')
      for (let i = 0; i < 30; i++) alice.send({ type: 'message', room: 'pg', text: `pg ${i}` })
      await bob.count((m) => isMessage(m), 30)
      expect(server.writer.stats().pending).toBe(30)
      await server.close()
      expect(server.writer.stats()).toMatchObject({ keys: 30, batches: 1, pending: 0 })

      const store = openStore(server.config)
      try {
        expect(await countMessages(store.db, 'pg')).toBe(30)
      } finally {
        await store.destroy()
      }
      const again = await startServer(env)
      const carol = await connect(again, 'carol')
      carol.send({ type: 'join', room: 'pg' })
      const joined = (await carol.next((m) => m.type === 'joined')) as { history: ChatMessage[] }
      expect(joined.history.map((m) => m.text)).toEqual(Array.from({ length: 30 }, (_, i) => `pg ${i}`))
      await again.close()
    } finally {
      await temp.drop()
    }
  })
})
