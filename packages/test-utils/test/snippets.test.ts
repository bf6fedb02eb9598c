import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { afterAll, describe, expect, it } from 'vitest'
import { runNode } from '../src'

// Every fenced block marked ```ts runnable (or ```js runnable) in the READMEs and guides runs as
// written, with plain `node` on the built packages: a reader who pastes it gets what it says, not
// a ReferenceError or a hang. TypeScript is only stripped of its types (ESNext output, no
// downlevelling), so syntax Node does not support fails here as it would for the reader.
const root = fileURLToPath(new URL('../../..', import.meta.url))
// bench/ depends on every hotpath package and the peers the snippets use (ioredis, kysely, pg).
const scratch = join(root, 'bench', '.tmp', 'snippets')

function markdownFiles(): string[] {
  const inDir = (dir: string) =>
    readdirSync(join(root, dir))
      .filter((name) => name.endsWith('.md'))
      .map((name) => join(dir, name))
  const packages = readdirSync(join(root, 'packages')).map((name) => join('packages', name, 'README.md'))
  const examples = readdirSync(join(root, 'examples')).map((name) => join('examples', name, 'README.md'))
  return ['README.md', ...packages, ...examples, ...inDir('docs')].filter((file) => {
    try {
      readFileSync(join(root, file))
      return true
    } catch {
      return false
    }
  })
}

interface Snippet {
  where: string
  language: 'ts' | 'js'
  code: string
}

function snippets(): Snippet[] {
  const found: Snippet[] = []
  for (const file of markdownFiles()) {
    const text = readFileSync(join(root, file), 'utf8')
    for (const match of text.matchAll(/^```(ts|js) runnable\n([\s\S]*?)^```$/gm)) {
      const line = text.slice(0, match.index).split('\n').length
      found.push({ where: `${file}:${line}`, language: match[1] as 'ts' | 'js', code: match[2]! })
    }
  }
  return found
}

function toModule({ language, code }: Snippet): string {
  if (language === 'js') return code
  return ts.transpileModule(code, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ESNext },
  }).outputText
}

const all = snippets()

afterAll(() => rmSync(scratch, { recursive: true, force: true }))

describe('runnable snippets in the READMEs and guides', () => {
  it('there are some (the marker is ```ts runnable)', () => {
    expect(all.length).toBeGreaterThan(0)
  })

  for (const [index, snippet] of all.entries()) {
    it(`${snippet.where} runs as written and exits by itself`, async () => {
      mkdirSync(scratch, { recursive: true })
      const file = join(scratch, `snippet-${index}.mjs`)
      writeFileSync(file, `// ${snippet.where}\n${toModule(snippet)}`)
      const run = await runNode(file, { timeout: 30_000 })
      const output = `${relative(root, file)}\n${run.stdout}\n${run.stderr}`
      expect(run.timedOut, `hung: ${output}`).toBe(false)
      expect(run.code, output).toBe(0)
    })
  }
})
