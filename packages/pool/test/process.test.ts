import { freePort, IDLE_EXIT_MS, runScript } from '@hotpath/test-utils'
import { describe, expect, it } from 'vitest'

// Plain `node` child processes on the built package: what keeps a user's script alive, and what
// lets it exit, can only be seen from outside the test runner (which keeps its own loop busy).
const packageDir = new URL('..', import.meta.url)

type Kind = 'esm' | 'cjs'

const POOL = { '@hotpath/pool': ['createPool'] }

/** A user's script body, run as ESM (top-level await) or CommonJS (inside an async function). */
function run(kind: Kind, imports: Record<string, string[]>, body: string) {
  return runScript(packageDir, kind, body, { imports })
}

describe.each(['esm', 'cjs'] as const)('a plain node process (%s)', (kind) => {
  it('a pending acquire keeps the process alive until its timeout, then fails with a typed error', async () => {
    const result = await run(
      kind,
      POOL,
      `
        const pool = createPool({
          create: async () => { throw new Error('connection refused') },
          max: 2,
          createRetry: { base: '20ms', max: '50ms' },
        })
        const started = performance.now()
        try {
          await pool.acquire({ timeout: 300 })
          console.log('acquired')
        } catch (error) {
          console.log(error.code, Math.round(performance.now() - started), error.cause.message)
        }`,
    )
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(result.lines).toHaveLength(1)
    const [code, waited, ...cause] = result.lines[0]!.split(' ')
    expect(code).toBe('E_POOL_ACQUIRE_TIMEOUT')
    expect(Number(waited)).toBeGreaterThanOrEqual(295)
    expect(cause.join(' ')).toBe('connection refused')
  })

  it('an unhandled acquire timeout ends the process with code 1 and the typed error', async () => {
    const result = await run(
      kind,
      POOL,
      `
        const pool = createPool({ create: () => new Promise(() => {}), max: 1, createTimeout: 100 })
        await pool.acquire({ timeout: 250 })`,
    )
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/E_POOL_ACQUIRE_TIMEOUT/)
    expect(result.elapsedMs).toBeGreaterThanOrEqual(250)
  })

  it('an idle pool (min, keepalive, idle timeout) lets the process exit right after the last await', async () => {
    const result = await run(
      kind,
      POOL,
      `
        const pool = createPool({
          create: async () => ({}),
          destroy: () => {},
          validate: async () => true,
          min: 2,
          max: 2,
          keepalive: '1s',
          idleTimeout: '2s',
          maxLifetime: '10m',
          leakDetection: '20s',
          acquireTimeout: '30s',
        })
        await pool.initialize()
        const [a, b] = await Promise.all([pool.acquire(), pool.acquire()])
        // a queued acquire served by a release: its 30 s deadline must not hold the process
        const queued = pool.acquire()
        a.release()
        ;(await queued).release()
        b.release()
        await pool.use(async () => {})
        mark()`,
    )
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(result.exitGap).toBeLessThanOrEqual(IDLE_EXIT_MS)
  })

  it('a pool whose creates keep failing lets the process exit once nobody awaits it', async () => {
    const result = await run(
      kind,
      POOL,
      `
        let attempts = 0
        const pool = createPool({
          create: async () => { attempts++; throw new Error('connection refused') },
          min: 2,
          max: 2,
          createRetry: { base: '50ms', max: '50ms' },
        })
        // A waiter keeps the retries running (and the process alive) until its deadline...
        const outcome = await pool.acquire({ timeout: 200 }).catch((error) => error.code)
        console.log(outcome, attempts > 1)
        // ...then the pending retry alone must not hold the process.
        mark()`,
    )
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(result.lines).toEqual(['E_POOL_ACQUIRE_TIMEOUT true'])
    expect(result.exitGap).toBeLessThanOrEqual(IDLE_EXIT_MS)
  })

  it('drain() serves the acquires queued before it, then closes and lets the process exit', async () => {
    const result = await run(
      kind,
      POOL,
      `
        let created = 0
        let destroyed = 0
        const pool = createPool({
          create: () => new Promise((resolve) => setTimeout(() => resolve({ id: created++ }), 20)),
          destroy: () => { destroyed++ },
          min: 3,
          max: 3,
          acquireTimeout: '2s',
        })
        // the holders give back only once all three are served
        const served = Promise.all([1, 2, 3].map(() => pool.acquire())).then(
          (leases) => { for (const lease of leases) lease.release(); return leases.length + ' served' },
          (error) => error.code,
        )
        const started = performance.now()
        const result = await pool.drain({ timeout: '3s' })
        console.log(JSON.stringify(result))
        console.log(await served)
        console.log(created, destroyed, performance.now() - started < 1500)
        await pool.acquire().catch((error) => console.log(error.code))`,
    )
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(result.lines).toEqual([
      '{"drained":true,"outstanding":0}',
      '3 served',
      '3 3 true',
      'E_POOL_CLOSED',
    ])
  })

  it('close() with a hung destroy and a create that ignores its signal finishes after their timeouts', async () => {
    const result = await run(
      kind,
      POOL,
      `
        let first = true
        const pool = createPool({
          create: () => (first ? ((first = false), Promise.resolve({})) : new Promise(() => {})),
          destroy: () => new Promise(() => {}),
          max: 2,
          createTimeout: 300,
          destroyTimeout: 200,
        })
        const lease = await pool.acquire()
        lease.destroy()
        void pool.acquire({ timeout: 5000 }).catch((error) => console.log(error.code))
        const started = performance.now()
        await pool.close()
        const { destroyTimeouts, createErrors } = pool.stats()
        console.log('closed', destroyTimeouts, createErrors, Math.round(performance.now() - started))`,
    )
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(result.lines[0]).toBe('E_POOL_CLOSED')
    const [closed, destroyTimeouts, createErrors, waited] = (result.lines[1] ?? '').split(' ')
    expect([closed, destroyTimeouts, createErrors]).toEqual(['closed', '1', '1'])
    expect(Number(waited)).toBeGreaterThanOrEqual(195)
  })

  it('a Kysely query against a closed port keeps the process alive until the acquire timeout', async () => {
    const port = await freePort()
    const result = await run(
      kind,
      { kysely: ['Kysely', 'sql'], '@hotpath/pool/kysely': ['postgresDialect'] },
      `
        const db = new Kysely({
          dialect: postgresDialect({
            connectionString: 'postgres://postgres@127.0.0.1:${port}/test',
            // long enough for pg to load and the first connect to be refused on a loaded machine
            pool: { acquireTimeout: 1_500, createRetry: { base: '20ms', max: '100ms' } },
          }),
        })
        const started = performance.now()
        try {
          await sql\`select 1\`.execute(db)
          console.log('connected')
        } catch (error) {
          console.log(error.code, error.cause && error.cause.code, Math.round(performance.now() - started))
        }
        await db.destroy()`,
    )
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    const [code, cause, waited] = (result.lines[0] ?? '').split(' ')
    expect(code).toBe('E_POOL_ACQUIRE_TIMEOUT')
    expect(cause).toBe('ECONNREFUSED')
    expect(Number(waited)).toBeGreaterThanOrEqual(1_495)
  })
})
