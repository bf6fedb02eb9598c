import { runNodeSource } from '@hotpath/test-utils'
import { describe, expect, it } from 'vitest'

const packageDir = new URL('..', import.meta.url)

/**
 * Runs `body` with plain `node` on the built `@hotpath/concurrency/workers`, as an ES module or as
 * CommonJS; `fixture(name)` is the path of a worker module in test/fixtures. `mark()` notes the
 * time of the script's last await; when the process exits on its own, the last line is
 * `exit <ms since the mark>`.
 */
function run(kind: 'esm' | 'cjs', body: string) {
  const header =
    kind === 'esm'
      ? `import { createWorkerPool } from '@hotpath/concurrency/workers'
const fixture = (name) => new URL('../test/fixtures/' + name, import.meta.url)`
      : `const { createWorkerPool } = require('@hotpath/concurrency/workers')
const fixture = (name) => require('node:path').join(__dirname, '../test/fixtures', name)`
  const source = `${header}
let marked = performance.now()
const mark = () => { marked = performance.now() }
process.on('exit', () => console.log('exit', Math.round(performance.now() - marked)))
;(async () => {
${body}
})()
`
  return runNodeSource(packageDir, kind, source, { timeout: 15_000 })
}

/** Milliseconds between the mark and the exit, from the last line. */
function exitDelay(lines: string[]): number {
  const last = lines.at(-1) ?? ''
  expect(last).toMatch(/^exit \d+$/)
  return Number(last.split(' ')[1])
}

describe.each(['esm', 'cjs'] as const)('worker pool process lifetime (%s, plain node on dist/)', (kind) => {
  it('a script that awaits run() prints the result, and the idle pool lets it exit within 200 ms', async () => {
    const result = await run(
      kind,
      `const workers = createWorkerPool({ filename: fixture('worker.${kind === 'esm' ? 'mjs' : 'cjs'}'), maxThreads: 2, idleTimeout: '10m' })
       console.log('sum', await workers.run({ op: 'sum', n: 100 }))
       console.log('sums', (await Promise.all([workers.run({ op: 'sum', n: 3 }), workers.run({ op: 'sum', n: 4 })])).join(','))
       mark()`,
    )
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(result.lines.slice(0, 2)).toEqual(['sum 5050', 'sums 6,10'])
    expect(exitDelay(result.lines)).toBeLessThan(200)
  })

  it('a pending task keeps the process alive until its result arrives', async () => {
    const result = await run(
      kind,
      `const workers = createWorkerPool({ filename: fixture('worker.mjs'), maxThreads: 1 })
       mark()
       workers.run({ op: 'wait', ms: 300, label: 'first' }).then(console.log)
       workers.run({ op: 'wait', ms: 10, label: 'queued' }, { timeout: '10m' }).then(console.log)`,
    )
    expect(result.code).toBe(0)
    expect(result.lines.slice(0, 2)).toEqual(['first', 'queued'])
    expect(exitDelay(result.lines)).toBeGreaterThanOrEqual(290)
  })

  it('a pool with warm idle threads (minThreads) does not keep the process alive', async () => {
    const result = await run(
      kind,
      `const workers = createWorkerPool({ filename: fixture('worker.mjs'), minThreads: 1, maxThreads: 1 })
       await new Promise((resolve) => setTimeout(resolve, 200)) // the thread has started
       console.log('threads', workers.stats().threads)
       mark()`,
    )
    expect(result.code).toBe(0)
    expect(result.lines[0]).toBe('threads 1')
    expect(exitDelay(result.lines)).toBeLessThan(200)
  })
})
