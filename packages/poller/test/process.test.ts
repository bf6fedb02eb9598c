import { fileURLToPath } from 'node:url'
import { runNodeSource } from '@hotpath/test-utils'
import { describe, expect, it } from 'vitest'

// Plain `node` on the built package, as a user's script runs it: nothing else keeps the event
// loop alive, so these show what the poller itself keeps alive.
const pkg = fileURLToPath(new URL('..', import.meta.url))

/** Prints the milliseconds between the last await and the process exit. */
const exitGap = `
let last = 0
const mark = () => { last = performance.now() }
process.on('exit', () => console.log('exit-gap', Math.round(performance.now() - last)))
`

function gap(lines: string[]): number {
  const line = lines.find((l) => l.startsWith('exit-gap '))
  if (line === undefined) throw new Error(`no exit-gap line in ${JSON.stringify(lines)}`)
  return Number(line.split(' ')[1])
}

describe('process lifetime (plain node, built package)', () => {
  it('ESM: a pending poll keeps the process alive until it settles; then it exits at once', async () => {
    const run = await runNodeSource(
      pkg,
      'esm',
      `${exitGap}
      import { poll } from '@hotpath/poller'
      let n = 0
      const value = await poll(() => ++n, { interval: 100, isDone: (s) => s >= 3 })
      console.log('done', value)
      mark()
    `,
    )
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    expect(run.lines[0]).toBe('done 3')
    expect(gap(run.lines)).toBeLessThan(200)
  })

  it('CommonJS: a poll that never succeeds keeps the process alive until its deadline and rejects with E_POLL_TIMEOUT', async () => {
    const run = await runNodeSource(
      pkg,
      'cjs',
      `${exitGap}
      const { poll } = require('@hotpath/poller')
      const started = performance.now()
      poll(() => false, { interval: 50, deadline: 400 }).catch((error) => {
        console.log(error.code, performance.now() - started >= 390)
        mark()
      })
    `,
    )
    expect(run.code).toBe(0)
    expect(run.lines[0]).toBe('E_POLL_TIMEOUT true')
    expect(gap(run.lines)).toBeLessThan(200)
  })

  it('an every() job keeps the process alive like setInterval until stopped; an unref job does not', async () => {
    const run = await runNodeSource(
      pkg,
      'esm',
      `${exitGap}
      import { every } from '@hotpath/poller'
      every('1h', () => console.log('never'), { unref: true })
      let runs = 0
      const job = every('50ms', async () => {
        runs++
        if (runs === 3) {
          await job.stop()
          console.log('stopped after', runs)
          mark()
        }
      })
    `,
    )
    expect(run.code).toBe(0)
    expect(run.lines[0]).toBe('stopped after 3')
    expect(run.lines).not.toContain('never')
    expect(gap(run.lines)).toBeLessThan(200)
  })
})
