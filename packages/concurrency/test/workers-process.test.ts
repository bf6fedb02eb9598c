import { IDLE_EXIT_MS, runScript } from '@hotpath/test-utils'
import { describe, expect, it } from 'vitest'

const packageDir = new URL('..', import.meta.url)
const imports = { '@hotpath/concurrency/workers': ['createWorkerPool'] }

/** `fixture(name)`: a worker module in test/fixtures, from the script in the package's .tmp/. */
const fixture = (kind: 'esm' | 'cjs') =>
  kind === 'esm'
    ? `const fixture = (name) => new URL('../test/fixtures/' + name, import.meta.url)`
    : `const fixture = (name) => require('node:path').join(__dirname, '../test/fixtures', name)`

const script = (kind: 'esm' | 'cjs', body: string) =>
  runScript(packageDir, kind, `${fixture(kind)}\n${body}`, { imports, timeout: 15_000 })

describe.each(['esm', 'cjs'] as const)('worker pool process lifetime (%s, plain node on dist/)', (kind) => {
  it('a script that awaits run() prints the result, and the idle pool lets it exit', async () => {
    const run = await script(
      kind,
      `const workers = createWorkerPool({ filename: fixture('worker.${kind === 'esm' ? 'mjs' : 'cjs'}'), maxThreads: 2, idleTimeout: '10m' })
       console.log('sum', await workers.run({ op: 'sum', n: 100 }))
       console.log('sums', (await Promise.all([workers.run({ op: 'sum', n: 3 }), workers.run({ op: 'sum', n: 4 })])).join(','))
       mark()`,
    )
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    expect(run.lines).toEqual(['sum 5050', 'sums 6,10'])
    expect(run.exitGap).toBeLessThanOrEqual(IDLE_EXIT_MS)
  })

  it('a pending task keeps the process alive until its result arrives', async () => {
    const run = await script(
      kind,
      `const workers = createWorkerPool({ filename: fixture('worker.mjs'), maxThreads: 1 })
       workers.run({ op: 'wait', ms: 300, label: 'first' }).then(console.log)
       workers.run({ op: 'wait', ms: 10, label: 'queued' }, { timeout: '10m' }).then(console.log)
       mark()`,
    )
    expect(run.code).toBe(0)
    expect(run.lines).toEqual(['first', 'queued'])
    // Nothing but the two pending tasks was left after mark(): they held the process for ~310 ms.
    expect(run.exitGap).toBeGreaterThanOrEqual(290)
  })

  it('a pool with warm idle threads (minThreads) does not keep the process alive', async () => {
    const run = await script(
      kind,
      `const workers = createWorkerPool({ filename: fixture('worker.mjs'), minThreads: 1, maxThreads: 1 })
       await new Promise((resolve) => setTimeout(resolve, 200)) // the thread has started
       console.log('threads', workers.stats().threads)
       mark()`,
    )
    expect(run.code).toBe(0)
    expect(run.lines).toEqual(['threads 1'])
    expect(run.exitGap).toBeLessThanOrEqual(IDLE_EXIT_MS)
  })

  it('a task whose thread crashes rejects with E_WORKER_CRASHED; the replacement thread does not hold the process', async () => {
    const run = await script(
      kind,
      `const workers = createWorkerPool({ filename: fixture('worker.mjs'), minThreads: 1, maxThreads: 1, name: 'render' })
       const error = await workers.run({ op: 'crash-later', ms: 20 }).catch((e) => e)
       console.log(error.code, error.pool, error.cause.message)
       console.log('after', await workers.run({ op: 'sum', n: 3 }))
       mark()`,
    )
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    expect(run.lines).toEqual(['E_WORKER_CRASHED render crashed after 20 ms', 'after 6'])
    expect(run.exitGap).toBeLessThanOrEqual(IDLE_EXIT_MS)
  })
})
