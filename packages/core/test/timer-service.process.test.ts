import { IDLE_EXIT_MS, runScript } from '@hotpath/test-utils'
import { describe, expect, it } from 'vitest'

// Plain `node` on the built package: nothing else keeps the event loop alive, so these show what
// the timer service itself keeps alive.
const pkg = new URL('..', import.meta.url)
const imports = { '@hotpath/core': ['getTimerService', 'Timeout'] }
const waits = { '@hotpath/core': ['deadlineSignal', 'sleep', 'withTimeout'] }

describe.each(['esm', 'cjs'] as const)('timer service process lifetime (%s, plain node on dist/)', (kind) => {
  it('a ref’d entry keeps the process alive until it fires, though an unref’d one waits longer', async () => {
    const run = await runScript(
      pkg,
      kind,
      `
      const timers = getTimerService()
      timers.add(new Timeout(() => console.log('housekeeping ran'), { ref: false }), 600_000)
      const started = performance.now()
      await new Promise((resolve) => timers.add(new Timeout(resolve), 300))
      console.log('waited', performance.now() - started >= 295)
      mark()
    `,
      { imports },
    )
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    expect(run.lines).toEqual(['waited true'])
    expect(run.exitGap).toBeLessThanOrEqual(IDLE_EXIT_MS)
  })

  it('only unref’d entries pending: the process exits at once', async () => {
    const run = await runScript(
      pkg,
      kind,
      `
      const timers = getTimerService()
      timers.add(new Timeout(() => console.log('never'), { ref: false }), 60_000)
      timers.add(new Timeout(() => console.log('never either')).unref(), 2 ** 31 + 5)
      console.log('pending', timers.stats().pending)
      mark()
    `,
      { imports },
    )
    expect(run.code).toBe(0)
    expect(run.lines).toEqual(['pending 2'])
    expect(run.exitGap).toBeLessThanOrEqual(IDLE_EXIT_MS)
  })

  it('a removed or unref’d wait no longer holds the process; ref() holds it again', async () => {
    const run = await runScript(
      pkg,
      kind,
      `
      const timers = getTimerService()
      const removed = new Timeout(() => console.log('never'))
      timers.add(removed, 60_000)
      const unrefd = new Timeout(() => console.log('never either'))
      timers.add(unrefd, 60_000)
      const held = new Timeout(() => console.log('held fired'), { ref: false })
      timers.add(held, 200)
      held.ref()
      timers.remove(removed)
      unrefd.unref()
      process.on('exit', () => console.log('referenced', timers.stats().timerReferenced))
      setTimeout(() => mark(), 150).unref()
    `,
      { imports },
    )
    expect(run.code).toBe(0)
    expect(run.lines).toEqual(['held fired', 'referenced false'])
    expect(run.exitGap).toBeLessThanOrEqual(IDLE_EXIT_MS)
  })

  it('a pending sleep() keeps the process alive until it resolves, then the process exits', async () => {
    const run = await runScript(
      pkg,
      kind,
      `
      const started = performance.now()
      await sleep(300)
      console.log('slept', performance.now() - started >= 295)
      mark()
    `,
      { imports: waits },
    )
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    expect(run.lines).toEqual(['slept true'])
    expect(run.exitGap).toBeLessThanOrEqual(IDLE_EXIT_MS)
  })

  it('a pending withTimeout() keeps the process alive until its timeout, a cleared deadline does not', async () => {
    const run = await runScript(
      pkg,
      kind,
      `
      const started = performance.now()
      deadlineSignal({ timeout: '10m' }).clear()
      // Nothing but the timeout can settle this wait: a promise that never settles holds nothing.
      const outcome = await withTimeout(new Promise(() => {}), { timeout: 300 }).catch((error) => error.code)
      console.log(outcome, performance.now() - started >= 295)
      mark()
    `,
      { imports: waits },
    )
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    expect(run.lines).toEqual(['E_TIMEOUT true'])
    expect(run.exitGap).toBeLessThanOrEqual(IDLE_EXIT_MS)
  })
})
