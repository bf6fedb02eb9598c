// Consumer test of what is published: packs every public package, installs the tarballs with
// npm into a fresh project outside the repository (no workspace resolution) together with the
// latest peers, runs an ES module and a CommonJS program that make one real call per entry point
// against the local services, and type-checks a consumer under each moduleResolution.
// Needs `pnpm build` first. `pnpm consumer:test`; KEEP_CONSUMER=1 keeps the temporary project.
import { execFile, execFileSync, spawn, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { homedir } from 'node:os'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const root = fileURLToPath(new URL('../..', import.meta.url))
const here = fileURLToPath(new URL('.', import.meta.url))
const started = performance.now()
const seconds = () => `${((performance.now() - started) / 1000).toFixed(1)} s`
const step = (name) => console.log(`\n== ${name} (${seconds()})`)

class Failure extends Error {}
const fail = (message) => {
  throw new Failure(message)
}

/** Peers installed beside the tarballs: the newest release a user would get today. */
const PEERS = [
  'ioredis@latest',
  'kysely@latest',
  'pg@latest',
  'mysql2@latest',
  // better-sqlite3 13 crashes on Node 20; 12 is the newest line that runs on every supported Node.
  'better-sqlite3@12',
  'piscina@latest',
  // @hotpath/metrics/otel declares sdk-metrics ^2 (3.x is not in its peer range yet); npm adds
  // the @opentelemetry/api release that sdk-metrics 2 accepts as its peer.
  '@opentelemetry/sdk-metrics@2',
  'typescript@latest',
  '@types/node@latest',
  'typescript5@npm:typescript@~5.9.3',
]

/**
 * moduleResolution settings the typed consumer is compiled under, with the compiler used.
 * consumer-require.cts is consumer.ts compiled as CommonJS (imports become require()).
 */
const TYPE_CHECKS = [
  {
    resolution: 'node16',
    module: 'node16',
    files: ['consumer.ts', 'consumer-require.cts'],
    tsc: 'typescript',
    // Kysely 0.29 ships only ES modules, and node16 has no require() of ES modules: a CommonJS
    // file cannot import it, whoever does the importing. nodenext (Node 20.19+) can.
    expected: [/error TS1479: .*import\("kysely"\)/],
  },
  {
    resolution: 'nodenext',
    module: 'nodenext',
    files: ['consumer.ts', 'consumer-require.cts'],
    tsc: 'typescript',
  },
  { resolution: 'bundler', module: 'esnext', files: ['consumer.ts'], tsc: 'typescript' },
  // TypeScript 7 has no moduleResolution node10: TypeScript 5 checks that one.
  { resolution: 'node10', module: 'commonjs', files: ['consumer.ts'], tsc: 'typescript5' },
]

const SMOKE_TIMEOUT_MS = 60_000
/** Longest a smoke program may take to exit after its last check: nothing may hold it open. */
const EXIT_GAP_MS = 5_000

function run(command, args, options = {}) {
  return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...options })
}

/** pnpm as the one running this script (also when it came from `npx pnpm`), else from PATH. */
async function pnpm(args, options) {
  const execPath = process.env.npm_execpath ?? ''
  const [command, prefix] = /pnpm/.test(execPath) ? [process.execPath, [execPath]] : ['pnpm', []]
  const { stdout } = await promisify(execFile)(command, [...prefix, ...args], {
    encoding: 'utf8',
    ...options,
  })
  return stdout
}

/** Every specifier of `pkg`'s exports map: `@hotpath/x`, `@hotpath/x/sub`, `@hotpath/x/package.json`. */
function specifiersOf(pkg) {
  return Object.keys(pkg.exports).map((key) => (key === '.' ? pkg.name : `${pkg.name}${key.slice(1)}`))
}

/** The `@hotpath/...` specifiers a file loads, matched by `pattern` (one capture group). */
function loaded(file, pattern) {
  const text = readFileSync(join(here, file), 'utf8')
  return new Set(
    [...text.matchAll(pattern)].map((match) => match[1]).filter((s) => s.startsWith('@hotpath/')),
  )
}

function checkCoverage(packages) {
  const exported = packages.flatMap(({ pkg }) => specifiersOf(pkg))
  const esm = loaded('smoke.mjs', /(?:\bfrom\s+|import\.meta\.resolve\(\s*)'([^']+)'/g)
  const cjs = loaded('smoke.cjs', /\brequire\(\s*'([^']+)'\s*\)/g)
  const typed = loaded('consumer.ts', /\bfrom\s+'([^']+)'/g)
  const missing = [
    ...exported.filter((s) => !esm.has(s)).map((s) => `smoke.mjs does not import ${s}`),
    ...exported.filter((s) => !cjs.has(s)).map((s) => `smoke.cjs does not require ${s}`),
    ...exported
      .filter((s) => !s.endsWith('/package.json') && !typed.has(s))
      .map((s) => `consumer.ts does not import ${s}`),
  ]
  // Each imported namespace must be used by the shared checks (`m.<name>.` in scenario.cjs).
  const scenario = readFileSync(join(here, 'scenario.cjs'), 'utf8')
  const smoke = readFileSync(join(here, 'smoke.mjs'), 'utf8')
  for (const [, name, specifier] of smoke.matchAll(/import \* as (\w+) from '(@hotpath\/[^']+)'/g)) {
    if (!scenario.includes(`m.${name}.`))
      missing.push(`scenario.cjs makes no call through ${specifier} (m.${name})`)
  }
  if (missing.length > 0) {
    fail(
      `entry points not covered by the consumer test:\n  ${missing.join('\n  ')}\nadd one real call for each`,
    )
  }
  console.log(`${exported.length} entry points covered by smoke.mjs, smoke.cjs and consumer.ts`)
}

/** prebuild-install's cache file for a better-sqlite3 binary of this Node (see its util.js). */
function prebuildCacheFile(version) {
  const url = `https://github.com/WiseLibs/better-sqlite3/releases/download/v${version}/better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`
  const digest = createHash('sha512').update(url).digest('hex').slice(0, 6)
  const cache = process.env.npm_config_cache || join(homedir(), '.npm')
  return join(cache, '_prebuilds', `${digest}-${url.split('/').pop()}`)
}

/**
 * better-sqlite3's install script downloads a prebuilt binary and, when that fails (only the npm
 * registry is reachable here), compiles SQLite for minutes. It first looks in npm's cache: put
 * there the binaries this machine already has (the workspace's, once loaded by this Node to prove
 * the ABI matches, and the one a previous run compiled), so the install takes seconds.
 */
function cacheNativeBuild(dir) {
  const binary = join(dir, 'build', 'Release', 'better_sqlite3.node')
  if (!existsSync(binary)) return
  const { version } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
  const target = prebuildCacheFile(version)
  if (existsSync(target)) return
  try {
    run(process.execPath, ['-e', `new (require(${JSON.stringify(dir)}))(':memory:').close()`])
  } catch {
    return // built for another Node
  }
  mkdirSync(join(target, '..'), { recursive: true })
  const temp = `${target}.${process.pid}.tmp`
  run('tar', ['-czf', temp, '-C', dir, 'build/Release/better_sqlite3.node'])
  run('mv', [temp, target])
  console.log(`cached the better-sqlite3 ${version} binary of ${relative(root, dir) || dir} for npm installs`)
}

function workspaceNativeBuilds() {
  const store = join(root, 'node_modules', '.pnpm')
  if (!existsSync(store)) return []
  return readdirSync(store)
    .filter((name) => name.startsWith('better-sqlite3@'))
    .map((name) => join(store, name, 'node_modules', 'better-sqlite3'))
}

/** The environment without the npm_config_* settings pnpm exports for its own scripts. */
function npmEnv() {
  const keep = new Set(['npm_config_cache', 'npm_config_registry', 'npm_config_userconfig'])
  return Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !/^npm_config_/i.test(key) || keep.has(key.toLowerCase())),
  )
}

/** Runs a smoke program with plain node and a deadline; resolves with what it did. */
function runSmoke(work, file, env) {
  return new Promise((resolve) => {
    const begin = performance.now()
    const child = spawn(process.execPath, [file], {
      cwd: work,
      env: { ...process.env, NODE_OPTIONS: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    let lastCheckAt = begin
    const timer = setTimeout(() => child.kill('SIGKILL'), SMOKE_TIMEOUT_MS)
    const collect = (chunk) => {
      output += chunk
      if (chunk.includes('all checks passed')) lastCheckAt = performance.now()
    }
    child.stdout.setEncoding('utf8').on('data', collect)
    child.stderr.setEncoding('utf8').on('data', collect)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      const end = performance.now()
      resolve({ file, code, signal, output, elapsedMs: end - begin, exitGapMs: end - lastCheckAt })
    })
  })
}

async function main() {
  const packages = readdirSync(join(root, 'packages'))
    .sort()
    .map((name) => ({ dir: join(root, 'packages', name), name }))
    .map((p) => ({ ...p, pkg: JSON.parse(readFileSync(join(p.dir, 'package.json'), 'utf8')) }))
    .filter(({ pkg }) => !pkg.private)

  step('entry points')
  checkCoverage(packages)
  for (const { dir, pkg } of packages) {
    if (!existsSync(join(dir, 'dist'))) fail(`${pkg.name} has no dist/: run \`pnpm build\` first`)
  }

  const work = mkdtempSync('/tmp/hotpath-consumer-')
  if (!relative(root, work).startsWith('..')) fail(`${work} is inside the repository`)
  let passed = false
  try {
    step(`pack into ${work}`)
    const tarballs = join(work, 'tarballs')
    mkdirSync(tarballs)
    const versions = {}
    const packed = await Promise.all(
      packages.map(({ dir }) => pnpm(['pack', '--pack-destination', tarballs, '--json'], { cwd: dir })),
    )
    packages.forEach(({ pkg }, i) => {
      const out = packed[i]
      const { filename, files } = JSON.parse(out.slice(out.indexOf('{')))
      const paths = files.map((f) => f.path)
      for (const required of ['LICENSE', 'README.md', 'CHANGELOG.md', 'package.json']) {
        if (!paths.includes(required)) fail(`${pkg.name}: the tarball has no ${required}`)
      }
      versions[pkg.name] = pkg.version
      console.log(`${pkg.name}@${pkg.version}: ${filename.split('/').pop()} (${paths.length} files)`)
    })

    step('npm install the tarballs and the latest peers')
    const app = join(work, 'app')
    mkdirSync(app)
    writeFileSync(
      join(app, 'package.json'),
      `${JSON.stringify({ name: 'hotpath-consumer', version: '0.0.0', private: true, type: 'module' }, null, 2)}\n`,
    )
    for (const file of [
      'smoke.mjs',
      'smoke.cjs',
      'scenario.cjs',
      'worker.mjs',
      'worker.cjs',
      'consumer.ts',
    ]) {
      copyFileSync(join(here, file), join(app, file))
    }
    // The CommonJS twin of the typed consumer: same source, resolved through `require`.
    writeFileSync(join(app, 'consumer-require.cts'), readFileSync(join(here, 'consumer.ts'), 'utf8'))
    for (const dir of workspaceNativeBuilds()) cacheNativeBuild(dir)
    const files = readdirSync(tarballs).map((name) => join(tarballs, name))
    const args = ['install', '--prefer-offline', '--no-audit', '--no-fund', ...files, ...PEERS]
    console.log(`npm ${args.map((a) => (a.startsWith(work) ? relative(app, a) : a)).join(' ')}`)
    const npm = spawnSync('npm', args, { cwd: app, encoding: 'utf8', env: npmEnv() })
    const npmOutput = `${npm.stdout ?? ''}${npm.stderr ?? ''}`
    process.stdout.write(npmOutput)
    if (npm.status !== 0) fail(`npm install failed (exit ${npm.status})`)
    // A peer range that does not admit the latest peer shows up as ERESOLVE (or as a peer warning).
    const peerProblems = npmOutput
      .split('\n')
      .filter((line) => /ERESOLVE/.test(line) || (/peer/i.test(line) && /@hotpath\//.test(line)))
    if (peerProblems.length > 0) fail(`npm reported peer dependency problems:\n${peerProblems.join('\n')}`)
    checkInstall(app, versions)
    const bsql = join(app, 'node_modules', 'better-sqlite3')
    cacheNativeBuild(bsql)

    step('smoke programs (ES module and CommonJS, plain node, one real call per entry point)')
    const env = { HOTPATH_VERSIONS: JSON.stringify(versions) }
    const runs = await Promise.all([runSmoke(app, 'smoke.mjs', env), runSmoke(app, 'smoke.cjs', env)])
    for (const r of runs) {
      process.stdout.write(r.output.replace(/^/gm, `  ${r.file}: `).trimEnd())
      console.log()
      const how = r.signal
        ? `killed after ${SMOKE_TIMEOUT_MS} ms (it did not exit on its own)`
        : `exit code ${r.code}`
      if (r.code !== 0 || !r.output.includes('all checks passed')) fail(`${r.file}: ${how}`)
      if (r.exitGapMs > EXIT_GAP_MS) {
        fail(
          `${r.file}: exited ${Math.round(r.exitGapMs)} ms after its last check: something held the process open`,
        )
      }
      console.log(
        `${r.file}: exit 0 in ${Math.round(r.elapsedMs)} ms, ${Math.round(r.exitGapMs)} ms after its last check`,
      )
    }

    step('typecheck the typed consumer (the four compilers run at once)')
    const checks = await Promise.all(TYPE_CHECKS.map((check) => typecheck(app, check)))
    const ignored = new Set()
    for (const { check, version, tookS, status, output } of checks) {
      const { ours, expected, others } = classifyTscErrors(output, check.expected ?? [])
      for (const line of expected) console.log(`  ${check.resolution}, expected: ${line}`)
      for (const line of others) ignored.add(line)
      if (ours.length > 0) fail(`tsc ${version} (${check.resolution}) failed:\n${ours.join('\n')}`)
      if (status !== 0 && expected.length + others.length === 0) {
        fail(`tsc ${version} (${check.resolution}) exited ${status}:\n${output}`)
      }
      console.log(
        `moduleResolution ${check.resolution} (TypeScript ${version}): clean in hotpath's types (${tookS} s)`,
      )
    }
    for (const line of ignored) console.log(`  in another package's types (not hotpath's, ignored): ${line}`)
    passed = true
  } finally {
    if (process.env.KEEP_CONSUMER === '1' || !passed) console.log(`\nconsumer project kept in ${work}`)
    else rmSync(work, { recursive: true, force: true })
  }
  console.log(`\nconsumer test passed in ${seconds()}`)
}

/** Compiles the typed consumer under one moduleResolution; resolves with tsc's output. */
function typecheck(app, check) {
  const config = `tsconfig.${check.resolution}.json`
  const compilerOptions = {
    target: 'es2022',
    lib: ['es2023'],
    module: check.module,
    moduleResolution: check.resolution,
    types: ['node'],
    strict: true,
    noEmit: true,
    // Declarations are checked too: hotpath's must compile in the consumer's settings.
    skipLibCheck: false,
  }
  writeFileSync(join(app, config), `${JSON.stringify({ compilerOptions, files: check.files }, null, 2)}\n`)
  const { version } = JSON.parse(readFileSync(join(app, 'node_modules', check.tsc, 'package.json'), 'utf8'))
  const tsc = join(app, 'node_modules', check.tsc, 'bin', 'tsc')
  const begin = performance.now()
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [tsc, '-p', config], {
      cwd: app,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
      output += chunk
    })
    child.stderr.setEncoding('utf8').on('data', (chunk) => {
      output += chunk
    })
    child.on('close', (status) => {
      const tookS = ((performance.now() - begin) / 1000).toFixed(1)
      resolve({ check, version, tookS, status, output })
    })
  })
}

/**
 * Sorts tsc's errors: in the consumer files or hotpath's declarations (fail the run), matching
 * an `expected` pattern, or in another package's declarations (ioredis 6 refers to an untyped
 * module, for one: that is for its maintainers, and invisible under the usual skipLibCheck).
 */
function classifyTscErrors(output, patterns) {
  const ours = []
  const expected = []
  const others = []
  let current
  for (const line of output.split('\n')) {
    const head = /^(\S[^(]*)\(\d+,\d+\): error TS\d+/.exec(line)
    if (!head) {
      if (/^error TS\d+/.test(line)) {
        current = ours
        current.push(line)
      } else if (current && line.trim()) current.push(line)
      continue
    }
    const file = head[1]
    if (patterns.some((p) => p.test(line))) current = expected
    else if (!file.startsWith('node_modules/') || file.startsWith('node_modules/@hotpath/')) current = ours
    else current = others
    current.push(line)
  }
  return { ours, expected, others }
}

/** The install took the tarballs (not a registry package of the same name) and the peers resolved. */
function checkInstall(app, versions) {
  const modules = join(app, 'node_modules')
  const table = []
  for (const [name, version] of Object.entries(versions)) {
    const installed = JSON.parse(readFileSync(join(modules, name, 'package.json'), 'utf8')).version
    if (installed !== version) fail(`${name}: installed ${installed}, packed ${version}`)
  }
  const nested = run('find', [modules, '-mindepth', '3', '-path', '*/node_modules/@hotpath', '-type', 'd'])
  if (nested.trim()) fail(`a second copy of a hotpath package was installed:\n${nested}`)
  for (const name of [
    'ioredis',
    'kysely',
    'pg',
    'mysql2',
    'better-sqlite3',
    'piscina',
    '@opentelemetry/sdk-metrics',
  ]) {
    table.push(`${name}@${JSON.parse(readFileSync(join(modules, name, 'package.json'), 'utf8')).version}`)
  }
  console.log(`peers: ${table.join(', ')}`)
  try {
    run('npm', ['ls', '--all'], { cwd: app, env: npmEnv() })
  } catch (error) {
    fail(`npm ls reports problems in the installed tree:\n${error.stdout ?? ''}${error.stderr ?? ''}`)
  }
}

main().catch((error) => {
  console.error(error instanceof Failure ? `\nCONSUMER TEST FAILED: ${error.message}` : error)
  process.exitCode = 1
})
