import { readdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { documentPaths, packageEntries } from '../build'

const root = resolve(fileURLToPath(new URL('../../..', import.meta.url)))

describe('site contents', () => {
  it('lists every decision in the decisions index', () => {
    const index = readFileSync(join(root, 'docs', 'decisions', 'README.md'), 'utf8')
    const decisions = readdirSync(join(root, 'docs', 'decisions')).filter((f) => /^\d{3}-.*\.md$/.test(f))
    expect(decisions.length).toBeGreaterThan(0)
    for (const file of decisions) expect(index).toContain(`](${file})`)
  })

  it('documents every entry point of every public package, named as users import it', () => {
    const specifiers = packageEntries().map((e) => e.specifier)
    for (const dir of readdirSync(join(root, 'packages'))) {
      const manifest = JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8'))
      if (manifest.private) continue
      for (const subpath of Object.keys(manifest.exports)) {
        if (subpath === './package.json') continue
        expect(specifiers).toContain(subpath === '.' ? manifest.name : `${manifest.name}/${subpath.slice(2)}`)
      }
    }
    expect(specifiers).toContain('@hotpath/concurrency/workers')
  })

  it('renders every guide, package README, benchmark page and decision as a page', () => {
    const pages = documentPaths()
    expect(new Set(pages).size).toBe(pages.length)
    for (const expected of [
      'docs/architecture.md',
      'docs/benchmarks.md',
      'docs/benchmarks/cache.md',
      'packages/core/README.md',
      'docs/decisions/README.md',
      'docs/decisions/001-toolchain-versions.md',
    ]) {
      expect(pages).toContain(expected)
    }
  })
})
