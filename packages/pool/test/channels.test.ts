import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { eventChannel } from '@hotpath/core'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createPool } from '../src/index'
import { fakeFactory, useFakeTime } from './helpers'

afterEach(() => {
  vi.useRealTimers()
})

function collect<T>(name: string) {
  const messages: T[] = []
  const off = eventChannel<T>(name).subscribe((m) => messages.push(m))
  return { messages, off }
}

describe('channels', () => {
  it('publishes acquire, create, create-error, acquire-timeout, destroy and leak', async () => {
    useFakeTime()
    const acquire = collect<{ pool: string; waitMs: number }>('hotpath:pool:acquire')
    const create = collect<{ pool: string; size: number }>('hotpath:pool:create')
    const createError = collect<{ failures: number; retryInMs: number }>('hotpath:pool:create-error')
    const timeout = collect<{ cause: unknown }>('hotpath:pool:acquire-timeout')
    const destroy = collect<{ reason: string }>('hotpath:pool:destroy')
    const leak = collect<{ heldMs: number; stack: string }>('hotpath:pool:leak')
    try {
      let fail = false
      const pool = createPool({
        ...fakeFactory({ fail: () => (fail ? new Error('down') : undefined) }),
        name: 'chan',
        max: 1,
        acquireTimeout: 500,
        leakDetection: 1_000,
      })
      const lease = await pool.acquire()
      expect(acquire.messages).toEqual([{ pool: 'chan', waitMs: 0 }])
      expect(create.messages[0]).toMatchObject({ pool: 'chan', size: 1 })
      await vi.advanceTimersByTimeAsync(1_000)
      expect(leak.messages).toHaveLength(1)
      lease.release(new Error('broken'))
      expect(destroy.messages).toEqual([{ pool: 'chan', reason: 'error' }])
      fail = true
      const waiting = pool.acquire().catch((e: unknown) => e)
      await vi.advanceTimersByTimeAsync(500)
      await waiting
      expect(createError.messages.length).toBeGreaterThan(0)
      expect(createError.messages[0]!.failures).toBe(1)
      expect(timeout.messages).toHaveLength(1)
      expect((timeout.messages[0]!.cause as Error).message).toBe('down')
      await pool.close()
    } finally {
      for (const c of [acquire, create, createError, timeout, destroy, leak]) c.off()
    }
  })
})

describe('packaging', () => {
  it('the main entry never imports kysely or a database client', () => {
    const src = join(dirname(fileURLToPath(import.meta.url)), '../src')
    const seen = new Set<string>()
    const visit = (file: string) => {
      if (seen.has(file)) return
      seen.add(file)
      const text = readFileSync(file, 'utf8')
      for (const match of text.matchAll(/from '([^']+)'|import\('([^']+)'\)|require\('([^']+)'\)/g)) {
        const spec = match[1] ?? match[2] ?? match[3]!
        expect(['kysely', 'pg', 'mysql2', 'better-sqlite3']).not.toContain(spec)
        if (spec.startsWith('.')) visit(join(dirname(file), `${spec}.ts`))
      }
    }
    visit(join(src, 'index.ts'))
    expect(seen.size).toBeGreaterThan(5)
    expect([...seen].some((f) => f.includes('kysely'))).toBe(false)
  })
})
