import { readFileSync } from 'node:fs'
import {
  IDLE_EXIT_MS,
  needService,
  redisUrl,
  runNodeSource,
  runScript,
  uniquePrefix,
} from '@hotpath/test-utils'
import { describe, expect, it } from 'vitest'

// Plain `node` children on the built package (dist/), with nothing else keeping them alive.
const packageDir = new URL('..', import.meta.url)

function quickStart(): string {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
  const block = /## Quick start\n[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)
  if (!block) throw new Error('no ```ts block under "## Quick start" in README.md')
  return block[1]!
}

describe.runIf(await needService('redis'))('process lifetime with Redis', () => {
  it('the README quick start, run as written, exits 0 on a healthy Redis', async () => {
    const run = await runNodeSource(packageDir, 'esm', quickStart(), {
      timeout: 20_000,
      env: { REDIS_URL: redisUrl(), CACHE_PREFIX: uniquePrefix('readme') },
    })
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    expect(run.stdout).toContain("id: 'gpt-4o'")
  })

  it.each(['esm', 'cjs'] as const)(
    '%s: an idle cache with Redis L2 and bus lets the process exit once the client is quit (no close())',
    async (kind) => {
      const body = `
        const client = new Redis(process.env.REDIS_URL, { enableOfflineQueue: false })
        await new Promise((resolve) => client.once('ready', resolve))
        const prefix = process.env.CACHE_PREFIX
        const cache = createCache({
          l2: redisStore({ client, prefix }),
          bus: redisBus({ client, channel: prefix + 'bus' }),
          grace: '1h',
        })
        await cache.set('k', 'v')
        console.log(await cache.getOrSet('loaded', async () => 'value'))
        await client.quit()
        mark()`
      const run = await runScript(packageDir, kind, body, {
        imports: {
          '@hotpath/cache': ['createCache'],
          '@hotpath/cache/redis': ['redisBus', 'redisStore'],
          ioredis: ['Redis'],
        },
        timeout: 10_000,
        env: { REDIS_URL: redisUrl(), CACHE_PREFIX: uniquePrefix('idle') },
      })
      expect(run.timedOut).toBe(false)
      expect(run.stderr).toBe('')
      expect(run.code).toBe(0)
      expect(run.lines[0]).toBe('value')
      // A handle left open (bus subscriber, breaker or L2 timer) would hold the process until the
      // run's 10 s timeout.
      expect(run.exitGap).toBeLessThanOrEqual(IDLE_EXIT_MS)
    },
  )
})

describe('process lifetime', () => {
  it('a pending getOrSet whose loader takes 300 ms keeps the process alive and prints its value', async () => {
    const run = await runNodeSource(
      packageDir,
      'esm',
      `import { createCache } from '@hotpath/cache'
       const cache = createCache({ timeouts: { hard: '5s' } })
       // The loader's own timer does not hold the process: the cache's hard timeout does.
       const load = () => new Promise((resolve) => setTimeout(() => resolve('loaded'), 300).unref())
       console.log(await cache.getOrSet('k', load))`,
      { timeout: 10_000 },
    )
    expect(run.code).toBe(0)
    expect(run.lines).toEqual(['loaded'])
    expect(run.elapsedMs).toBeGreaterThanOrEqual(300)
  })

  it('a call waiting for an L2 store that never answers keeps the process alive until l2Timeout', async () => {
    const run = await runNodeSource(
      packageDir,
      'cjs',
      `const { createCache } = require('@hotpath/cache')
       const never = () => new Promise(() => {})
       const store = {
         kind: 'stuck', get: never, getMany: never, set: never, setMany: never, delete: never,
         clear: never, getTagVersions: never, bumpTagVersions: never,
       }
       const cache = createCache({ l2: store, l2Timeout: 300 })
       const started = Date.now()
       cache.get('k').then((value) => console.log(String(value), Date.now() - started >= 290))`,
      { timeout: 10_000 },
    )
    expect(run.code).toBe(0)
    expect(run.lines).toEqual(['undefined true'])
  })

  it('a getOrSet whose loader never settles keeps the process alive until its hard timeout, then rejects typed', async () => {
    const run = await runNodeSource(
      packageDir,
      'esm',
      `import { createCache, CacheLoaderTimeoutError } from '@hotpath/cache'
       const cache = createCache({ timeouts: { hard: 400 } })
       const started = performance.now()
       try {
         await cache.getOrSet('k', () => new Promise(() => {}))
         console.log('resolved')
       } catch (error) {
         console.log(error instanceof CacheLoaderTimeoutError, error.code, performance.now() - started >= 390)
       }`,
      { timeout: 10_000 },
    )
    // An unref'd deadline would let Node exit with code 13 (unsettled top-level await) at once.
    expect(run.code).toBe(0)
    expect(run.lines).toEqual(['true E_CACHE_LOADER_TIMEOUT true'])
    expect(run.elapsedMs).toBeGreaterThanOrEqual(400)
  })

  it('an l2Timeout above 2^31-1 ms bounds an L2 call without TimeoutOverflowWarning or an early timeout', async () => {
    const run = await runNodeSource(
      packageDir,
      'cjs',
      `const { createCache } = require('@hotpath/cache')
       process.on('warning', (warning) => console.log('warning ' + warning.name))
       const never = () => new Promise(() => {})
       const store = {
         kind: 'stuck', get: never, getMany: never, set: never, setMany: never, delete: never,
         clear: never, getTagVersions: never, bumpTagVersions: never,
       }
       const cache = createCache({ l2: store, l2Timeout: '30d' })
       let settled = false
       cache.get('k').finally(() => { settled = true })
       setTimeout(() => {
         console.log('settled ' + settled + ', timeouts ' + cache.stats().l2.timeouts)
         process.exit(0)
       }, 300)`,
      { timeout: 10_000 },
    )
    expect(run.code).toBe(0)
    expect(run.lines).toEqual(['settled false, timeouts 0'])
    expect(run.stderr).not.toContain('TimeoutOverflowWarning')
  })
})
