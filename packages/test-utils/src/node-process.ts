import { spawn } from 'node:child_process'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * What a plain `node` child process did.
 *
 * @example
 * const { code, lines, elapsedMs } = await runNode(new URL('./fixtures/idle.mjs', import.meta.url))
 */
export interface NodeRun {
  /** Exit code, or `null` when the process was ended by a signal. */
  readonly code: number | null
  /** The signal that ended the process, if any (`SIGKILL` when `timeout` ran out). */
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
  /** Non-empty lines of stdout. */
  readonly lines: string[]
  /** Milliseconds from spawn to exit, measured by the parent. */
  readonly elapsedMs: number
  /** True when the runner had to kill the process because it outlived `timeout`. */
  readonly timedOut: boolean
}

/**
 * Options of {@link runNode} and {@link runNodeSource}.
 *
 * @example
 * await runNode(script, { timeout: 5_000, env: { REDIS_URL: server.url } })
 */
export interface RunNodeOptions {
  /** Extra environment variables (added to the parent's). */
  env?: Record<string, string | undefined>
  /** Milliseconds after which the child is killed with SIGKILL. @default 20_000 */
  timeout?: number
  /** Arguments after the script path. */
  args?: string[]
  /** Working directory. @default the script's directory */
  cwd?: string
}

/**
 * Runs a script with plain `node` (the parent's binary, no loader, no test runner), so the
 * script sees the built packages as an installed user would: through each package's `exports`
 * (`import`/`require` conditions, `dist/`), with nothing else keeping its event loop alive.
 *
 * @example
 * const run = await runNode(new URL('./fixtures/idle.mjs', import.meta.url))
 * expect(run.code).toBe(0)
 */
export function runNode(script: string | URL, options: RunNodeOptions = {}): Promise<NodeRun> {
  const file = typeof script === 'string' ? script : fileURLToPath(script)
  const { env, timeout = 20_000, args = [], cwd = join(file, '..') } = options
  const started = performance.now()
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [file, ...args], {
      cwd,
      env: { ...process.env, NODE_OPTIONS: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    let timedOut = false
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk
    })
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk
    })
    const timer = setTimeout(() => {
      timedOut = true
      child.kill('SIGKILL')
    }, timeout)
    child.on('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({
        code,
        signal,
        stdout,
        stderr,
        lines: stdout.split('\n').filter((line) => line.length > 0),
        elapsedMs: performance.now() - started,
        timedOut,
      })
    })
  })
}

let scriptCounter = 0

/**
 * Writes `source` to a temporary `.mjs` (`'esm'`) or `.cjs` (`'cjs'`) file inside `packageDir`
 * and runs it with {@link runNode}. Inside the package's own folder, the script can import the
 * package by its published name (Node's self-reference through `exports`) and its dependencies,
 * as a user's code would. The file is removed afterwards.
 *
 * @example
 * const run = await runNodeSource(new URL('..', import.meta.url), 'cjs', `
 *   const { createPool } = require('@hotpath/pool')
 *   console.log(typeof createPool)
 * `)
 * expect(run.lines).toEqual(['function'])
 */
export async function runNodeSource(
  packageDir: string | URL,
  kind: 'esm' | 'cjs',
  source: string,
  options: RunNodeOptions = {},
): Promise<NodeRun> {
  const dir = join(typeof packageDir === 'string' ? packageDir : fileURLToPath(packageDir), '.tmp')
  mkdirSync(dir, { recursive: true })
  scriptCounter += 1
  const file = join(dir, `process-${process.pid}-${scriptCounter}.${kind === 'esm' ? 'mjs' : 'cjs'}`)
  writeFileSync(file, source)
  try {
    return await runNode(file, options)
  } finally {
    rmSync(file, { force: true })
  }
}

/**
 * The documented rule for an idle process: it exits within 200 ms of its last await. The process
 * tests check it on the child's own clock ({@link ScriptRun.exitGap}: from the script's last
 * `mark()` to its `exit` event), so the time the parent takes to spawn the child, load its
 * modules and notice its exit on a loaded machine is not counted. A timer or socket wrongly left
 * referenced holds the child for its whole interval (or forever), far beyond this.
 *
 * @example
 * expect(run.exitGap).toBeLessThanOrEqual(IDLE_EXIT_MS)
 */
export const IDLE_EXIT_MS = 200

/**
 * Options of {@link runScript}.
 *
 * @example
 * await runScript(dir, 'esm', body, { imports: { '@hotpath/poller': ['poll'] } })
 */
export interface RunScriptOptions extends RunNodeOptions {
  /**
   * Named imports per module, written as `import { … } from` (ESM) or `const { … } = require()`
   * (CommonJS). @default {}
   */
  imports?: Record<string, readonly string[]>
}

/**
 * What {@link runScript} reports: the run, without its `exit-gap` line.
 *
 * @example
 * const { code, lines, exitGap } = await runScript(dir, 'cjs', body)
 */
export interface ScriptRun extends NodeRun {
  /**
   * Milliseconds between the script's last `mark()` (or its start) and the process exit, as the
   * child measured them; `undefined` when the process did not exit by itself.
   *
   * @example
   * expect(run.exitGap).toBeLessThanOrEqual(IDLE_EXIT_MS)
   */
  readonly exitGap: number | undefined
}

/**
 * Runs `body` as a user's script with {@link runNodeSource}: as an ES module (top-level await) or
 * as CommonJS (inside an async function, as a CommonJS user writes it), with `imports` loaded the
 * module system's way. `body` may call `mark()` after its last await; the child reports how long
 * it then took to exit (`exitGap`), which shows whether anything kept it alive.
 *
 * @example
 * const run = await runScript(new URL('..', import.meta.url), 'cjs', `
 *   const pool = createPool({ create: async () => ({}) })
 *   await pool.use(async () => {})
 *   mark()
 * `, { imports: { '@hotpath/pool': ['createPool'] } })
 * expect(run.exitGap).toBeLessThanOrEqual(IDLE_EXIT_MS)
 */
export async function runScript(
  packageDir: string | URL,
  kind: 'esm' | 'cjs',
  body: string,
  options: RunScriptOptions = {},
): Promise<ScriptRun> {
  const { imports = {}, ...rest } = options
  const header = Object.entries(imports).map(([from, names]) =>
    kind === 'esm'
      ? `import { ${names.join(', ')} } from '${from}'`
      : `const { ${names.join(', ')} } = require('${from}')`,
  )
  const source = `${header.join('\n')}
let lastMark = performance.now()
const mark = () => { lastMark = performance.now() }
process.on('exit', () => console.log('exit-gap ' + Math.round(performance.now() - lastMark)))
${kind === 'esm' ? body : `;(async () => {\n${body}\n})()`}
`
  const run = await runNodeSource(packageDir, kind, source, rest)
  const gapLine = run.lines.findLast((line) => line.startsWith('exit-gap '))
  return {
    ...run,
    lines: run.lines.filter((line) => line !== gapLine),
    exitGap: gapLine === undefined || run.timedOut ? undefined : Number(gapLine.slice('exit-gap '.length)),
  }
}
