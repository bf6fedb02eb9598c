import { IDLE_EXIT_MS, runScript } from '@hotpath/test-utils'
import { describe, expect, it } from 'vitest'

// Plain `node` on the built package, as a user's script runs it: nothing else keeps the event
// loop alive, so these show what the poller itself keeps alive.
const pkg = new URL('..', import.meta.url)

describe.each(['esm', 'cjs'] as const)('process lifetime (%s, plain node on dist/)', (kind) => {
  const imports = { '@hotpath/poller': ['every', 'poll'] }

  it('a pending poll keeps the process alive until it settles; then it exits at once', async () => {
    const run = await runScript(
      pkg,
      kind,
      `
      let n = 0
      const started = performance.now()
      const value = await poll(() => ++n, { interval: 100, isDone: (s) => s >= 3 })
      console.log('done', value, performance.now() - started >= 190)
      mark()
    `,
      { imports },
    )
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    expect(run.lines).toEqual(['done 3 true'])
    expect(run.exitGap).toBeLessThanOrEqual(IDLE_EXIT_MS)
  })

  it('a poll that never succeeds keeps the process alive until its deadline and rejects with E_POLL_TIMEOUT', async () => {
    const run = await runScript(
      pkg,
      kind,
      `
      const started = performance.now()
      await poll(() => false, { interval: 50, deadline: 400 }).catch((error) => {
        console.log(error.code, performance.now() - started >= 390)
      })
      mark()
    `,
      { imports },
    )
    expect(run.code).toBe(0)
    expect(run.lines).toEqual(['E_POLL_TIMEOUT true'])
    expect(run.exitGap).toBeLessThanOrEqual(IDLE_EXIT_MS)
  })

  it('an every() job keeps the process alive like setInterval until stopped; an unref job does not', async () => {
    const run = await runScript(
      pkg,
      kind,
      `
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
      { imports },
    )
    expect(run.code).toBe(0)
    expect(run.lines).toEqual(['stopped after 3'])
    expect(run.exitGap).toBeLessThanOrEqual(IDLE_EXIT_MS)
  })
})
