import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { IDLE_EXIT_MS, runNodeSource, runScript } from '../src'

// Scripts run inside packages/core so they load the built @hotpath/core by its own name.
const core = fileURLToPath(new URL('../../core', import.meta.url))

describe('runNodeSource: plain node on a built package', () => {
  it('loads the ESM and the CommonJS entry and reports exit code, stdout and elapsed time', async () => {
    const esm = await runNodeSource(
      core,
      'esm',
      `
      import { parseDuration } from '@hotpath/core'
      console.log(parseDuration('2s'))
      process.exitCode = 3
    `,
    )
    expect(esm).toMatchObject({ code: 3, lines: ['2000'], timedOut: false })
    const cjs = await runNodeSource(
      core,
      'cjs',
      `
      const { parseDuration } = require('@hotpath/core')
      console.log(parseDuration('250ms'))
    `,
    )
    expect(cjs).toMatchObject({ code: 0, lines: ['250'] })
    expect(cjs.elapsedMs).toBeGreaterThan(0)
  })

  it('a referenced timer keeps the child alive, an unreferenced one does not', async () => {
    const kept = await runNodeSource(
      core,
      'esm',
      `
      import { schedule } from '@hotpath/core'
      schedule(() => console.log('fired'), 300)
    `,
    )
    expect(kept.lines).toEqual(['fired'])
    expect(kept.elapsedMs).toBeGreaterThanOrEqual(300)
    const idle = await runScript(core, 'esm', "schedule(() => console.log('fired'), 5_000).unref()\nmark()", {
      imports: { '@hotpath/core': ['schedule'] },
    })
    expect(idle.lines).toEqual([])
    expect(idle.exitGap).toBeLessThanOrEqual(IDLE_EXIT_MS)
  })

  it('kills a child that outlives its timeout and says so', async () => {
    const run = await runNodeSource(core, 'esm', 'setInterval(() => {}, 1000)', { timeout: 500 })
    expect(run).toMatchObject({ timedOut: true, signal: 'SIGKILL', code: null })
  })
})

describe('runScript: a user script in ESM or CommonJS, with the time it took to exit', () => {
  for (const kind of ['esm', 'cjs'] as const) {
    it(`${kind}: loads named imports, awaits at the top, and measures the exit gap after mark()`, async () => {
      const idle = await runScript(
        core,
        kind,
        `
        console.log(parseDuration(await Promise.resolve('1s')))
        mark()
      `,
        { imports: { '@hotpath/core': ['parseDuration'] } },
      )
      expect(idle).toMatchObject({ code: 0, lines: ['1000'] })
      expect(idle.exitGap).toBeLessThanOrEqual(IDLE_EXIT_MS)

      // A timer left referenced after the last await shows as a gap of its whole delay.
      const held = await runScript(core, kind, 'setTimeout(() => {}, 1_500)\nmark()')
      expect(held.exitGap).toBeGreaterThanOrEqual(1_400)
    })
  }

  it('reports no exit gap when the process had to be killed', async () => {
    const run = await runScript(core, 'esm', 'setInterval(() => {}, 1000)', { timeout: 500 })
    expect(run.timedOut).toBe(true)
    expect(run.exitGap).toBeUndefined()
  })
})
