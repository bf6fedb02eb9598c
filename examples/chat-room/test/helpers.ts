import { rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join as joinPath } from 'node:path'
import WebSocket from 'ws'
import { type ChatServer, startChatServer } from '../src/chat-server'
import { type ChatConfig, readConfig } from '../src/config'
import type { ServerMessage } from '../src/protocol'

const running: ChatServer[] = []
const files: string[] = []
let counter = 0

/** Starts a server on a free port and a fresh SQLite file. */
export async function startServer(env: Record<string, string> = {}): Promise<ChatServer> {
  const file = joinPath(tmpdir(), `hotpath-chat-test-${process.pid}-${++counter}.db`)
  files.push(file)
  const server = await startChatServer(configFor(env, file))
  running.push(server)
  return server
}

export function configFor(env: Record<string, string>, file: string): ChatConfig {
  return readConfig({ PORT: '0', SQLITE_FILE: file, ...env })
}

/** Closes every server still running and removes the test databases. */
export async function cleanup(): Promise<void> {
  await Promise.all(running.splice(0).map((s) => s.close().catch(() => {})))
  for (const file of files.splice(0)) {
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true })
  }
}

/** A WebSocket test client that records every frame it receives. */
export interface TestClient {
  ws: WebSocket
  received: ServerMessage[]
  send(frame: unknown): void
  /** Resolves with the first received frame (past or future) matching `match`. */
  next<T extends ServerMessage>(match: (m: ServerMessage) => boolean, timeoutMs?: number): Promise<T>
  /** Resolves once `count` frames match. */
  count(match: (m: ServerMessage) => boolean, count: number, timeoutMs?: number): Promise<ServerMessage[]>
  close(): Promise<void>
}

export async function connect(server: ChatServer, user: string): Promise<TestClient> {
  const ws = new WebSocket(`${server.wsUrl}?user=${encodeURIComponent(user)}`)
  const received: ServerMessage[] = []
  const listeners = new Set<() => void>()
  ws.on('message', (data) => {
    received.push(JSON.parse(data.toString()) as ServerMessage)
    for (const listener of listeners) listener()
  })
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('error', reject)
  })
  const count = (match: (m: ServerMessage) => boolean, n: number, timeoutMs = 5_000) =>
    new Promise<ServerMessage[]>((resolve, reject) => {
      const check = () => {
        const found = received.filter(match)
        if (found.length < n) return false
        listeners.delete(check)
        clearTimeout(timer)
        resolve(found)
        return true
      }
      const timer = setTimeout(() => {
        listeners.delete(check)
        reject(new Error(`${user}: expected ${n} matching frames, got ${received.filter(match).length}`))
      }, timeoutMs)
      if (!check()) listeners.add(check)
    })
  const client: TestClient = {
    ws,
    received,
    send: (frame) => ws.send(JSON.stringify(frame)),
    next: async <T extends ServerMessage>(match: (m: ServerMessage) => boolean, timeoutMs?: number) =>
      (await count(match, 1, timeoutMs))[0] as T,
    count,
    close: () =>
      new Promise<void>((resolve) => {
        if (ws.readyState === WebSocket.CLOSED) return resolve()
        ws.once('close', () => resolve())
        ws.close()
      }),
  }
  await client.next((m) => m.type === 'welcome')
  return client
}

/** Joins `room` and waits for the confirmation. */
export async function join(client: TestClient, room: string): Promise<void> {
  client.send({ type: 'join', room })
  await client.next((m) => m.type === 'joined' && m.room === room)
}
