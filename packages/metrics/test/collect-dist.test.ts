import { readFileSync } from 'node:fs'
import { runScript } from '@hotpath/test-utils'
import { describe, expect, it } from 'vitest'

// Plain `node` on the built packages, as a user runs them.
const pkg = new URL('..', import.meta.url)

describe.each(['esm', 'cjs'] as const)('collect() on dist/ (%s)', (kind) => {
  it('collects a built primitive and a custom metricsSource object, and refuses a bare stats()', async () => {
    const run = await runScript(
      pkg,
      kind,
      `
      const registry = createRegistry()
      const semaphore = new Semaphore({ permits: 3, name: 'jobs' })
      const own = { [metricsSource]: () => ({ kind: 'other', stats: () => ({ name: 'own', depth: 7 }) }) }
      registry.collect(semaphore, own)
      const text = registry.prometheus()
      console.log(text.includes('hotpath_semaphore_permits{name="jobs"} 3'), text.includes('hotpath_stat{name="own",field="depth"} 7'))
      try {
        registry.collect({ stats: () => ({ permits: 3, inUse: 0, waiting: 0 }) })
      } catch (error) {
        console.log(error.constructor.name, error.message.split(',')[0])
      }
      console.log(metricsSource === Symbol.for('hotpath.metrics'))
      await registry.close()
    `,
      {
        imports: {
          '@hotpath/metrics': ['createRegistry', 'metricsSource'],
          '@hotpath/concurrency': ['Semaphore'],
        },
      },
    )
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    expect(run.lines).toEqual([
      'true true',
      'TypeError Expected `sources` to be objects implementing [metricsSource] from @hotpath/core (hotpath primitives do)',
      'true',
    ])
  })
})

describe('the built package', () => {
  it('imports no other hotpath package than core (the channel and stats contract is type-only)', () => {
    for (const file of ['index.mjs', 'index.cjs', 'index.d.mts', 'index.d.cts']) {
      const text = readFileSync(new URL(`dist/${file}`, pkg), 'utf8')
      expect([file, text.match(/@hotpath\/(cache|concurrency|pool|poller)\b/g)]).toEqual([file, null])
      expect(text).toContain('@hotpath/core')
    }
  })
})
