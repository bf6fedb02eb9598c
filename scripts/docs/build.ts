/**
 * Builds the documentation site with TypeDoc: the API reference of every public package (one
 * module per `exports` entry, named as users import it) and the guides, benchmark pages, package
 * READMEs and decisions as pages. Any TypeDoc warning fails the build, so a broken `{@link}`, a
 * link to a missing page or an exported symbol without documentation cannot land.
 *
 * Usage: pnpm docs:build [--out <dir>]   (default .tmp/site)
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Application, Converter, type DocumentReflection, ReflectionKind } from 'typedoc'

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)))

/** Where the site goes unless `--out` says otherwise (git-ignored). */
export const DEFAULT_SITE_DIR = join(root, '.tmp', 'site')

interface PackageEntry {
  /** The specifier users import, e.g. `@hotpath/concurrency/http`. */
  specifier: string
  /** Absolute path of the TypeScript source behind it. */
  source: string
}

/** Every public package's `exports`, resolved to source through the `@hotpath/source` condition. */
export function packageEntries(): PackageEntry[] {
  const entries: PackageEntry[] = []
  for (const dir of readdirSync(join(root, 'packages')).sort()) {
    const manifest = JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8')) as {
      name: string
      private?: boolean
      exports?: Record<string, string | Record<string, unknown>>
    }
    if (manifest.private) continue
    for (const [subpath, target] of Object.entries(manifest.exports ?? {})) {
      const source = typeof target === 'object' ? target['@hotpath/source'] : undefined
      if (typeof source !== 'string') continue
      entries.push({
        specifier: subpath === '.' ? manifest.name : `${manifest.name}/${subpath.slice(2)}`,
        source: join(root, 'packages', dir, source),
      })
    }
  }
  return entries
}

/** Markdown pages, in navigation order (first match wins). The root README is the home page. */
const DOCUMENT_GLOBS = [
  'docs/architecture.md',
  'docs/*.md',
  'packages/*/README.md',
  'examples/*/README.md',
  'docs/benchmarks.md',
  'docs/benchmarks/*.md',
  'bench/README.md',
  'docs/decisions/README.md',
  'docs/decisions/*.md',
]

/** Expands one star in a path (a directory name or a file name) to the files that exist. */
function expand(pattern: string): string[] {
  const star = pattern.indexOf('*')
  if (star < 0) return existsSync(join(root, pattern)) ? [pattern] : []
  const dir = pattern.slice(0, pattern.lastIndexOf('/', star) + 1)
  const rest = pattern.slice(star + 1)
  const tail = rest.includes('/') ? rest.slice(rest.indexOf('/')) : ''
  const suffix = rest.includes('/') ? '' : rest
  return readdirSync(join(root, dir))
    .filter((name) => name.endsWith(suffix))
    .map((name) => `${dir}${name}${tail}`)
    .filter((path) => existsSync(join(root, path)))
    .sort()
}

/** The pages the site renders besides the API reference, as paths from the repository root. */
export function documentPaths(): string[] {
  const seen = new Set<string>()
  for (const pattern of DOCUMENT_GLOBS) {
    for (const path of expand(pattern)) seen.add(path)
  }
  return [...seen]
}

/** Page titles for documents whose path says little on its own. */
function documentTitle(path: string): string {
  const readme = /^(packages|examples)\/([^/]+)\/README$/.exec(path)
  // A slash would file the page in a navigation folder of the same name as the package's modules.
  if (readme) return `${readme[1] === 'packages' ? 'package' : 'example'}: ${readme[2]}`
  if (path === 'bench/README') return 'benchmarks: scenarios'
  return path.replace(/^docs\//, '')
}

export async function buildSite(out: string): Promise<{ warnings: number; errors: number }> {
  const entries = packageEntries()
  const app = await Application.bootstrapWithPlugins({
    name: 'hotpath',
    entryPoints: entries.map((e) => e.source),
    tsconfig: join(root, 'scripts', 'docs', 'tsconfig.json'),
    readme: join(root, 'README.md'),
    // Browsers ask for an icon on every page; without one each page logs a 404.
    favicon: join(root, 'scripts', 'docs', 'favicon.svg'),
    projectDocuments: documentPaths().map((path) => join(root, path)),
    basePath: root,
    out,
    excludePrivate: true,
    excludeInternal: true,
    sort: ['kind', 'instance-first', 'alphabetical-ignoring-documents'],
    highlightLanguages: ['ts', 'js', 'json', 'sh', 'bash', 'http', 'text', 'yaml', 'sql', 'diff'],
    githubPages: false,
    hideGenerator: true,
    disableGit: true,
    sourceLinkTemplate: 'https://example.invalid/{path}#L{line}',
    disableSources: true,
    validation: { notExported: false, invalidLink: true, rewrittenLink: true, notDocumented: true },
    externalSymbolLinkMappings: {
      kysely: {
        'Kysely.withoutPlugins':
          'https://kysely-org.github.io/kysely-apidoc/classes/Kysely.html#withoutplugins',
      },
    },
    logLevel: 'Warn',
  })

  // TypeDoc names a module after its path (`concurrency/src/http`); users know it by its specifier.
  const byPath = new Map(
    entries.map((e) => [
      relative(root, e.source)
        .replace(/\.ts$/, '')
        .replace(/\/index$/, ''),
      e.specifier,
    ]),
  )
  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
    for (const module of context.project.getReflectionsByKind(ReflectionKind.Module)) {
      const specifier = byPath.get(module.name)
      if (specifier) module.name = specifier
    }
  })
  app.converter.on(Converter.EVENT_CREATE_DOCUMENT, (_context: unknown, document: DocumentReflection) => {
    document.name = documentTitle(document.name)
  })

  const project = await app.convert()
  if (!project) throw new Error('TypeDoc could not convert the project')
  app.validate(project)
  await app.generateOutputs(project)
  return { warnings: app.logger.warningCount, errors: app.logger.errorCount }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const flag = process.argv.indexOf('--out')
  const out = flag >= 0 && process.argv[flag + 1] ? resolve(process.argv[flag + 1]!) : DEFAULT_SITE_DIR
  const started = Date.now()
  const { warnings, errors } = await buildSite(out)
  const seconds = ((Date.now() - started) / 1000).toFixed(1)
  console.log(`docs: ${relative(root, out)} in ${seconds} s, ${errors} errors, ${warnings} warnings`)
  if (warnings > 0 || errors > 0) process.exit(1)
}
