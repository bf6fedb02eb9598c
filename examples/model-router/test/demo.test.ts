import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import type { ResponseRecord } from '../src/load'
import { attributeFailures } from '../src/outage'
import { checkStoredMetrics, countCompletions } from '../src/stored-check'

const EXAMPLE = join(import.meta.dirname, '..')
const ROOT = join(EXAMPLE, '..', '..')
const OWN_DIR = /^hotpath-model-router-/

describe('stored metrics check', () => {
  it('passes only when the rows match the completions', () => {
    expect(checkStoredMetrics(1200, 1200)).toEqual({
      ok: true,
      missing: 0,
      message: '1200 completions, 1200 rows: none lost',
    })
    expect(checkStoredMetrics(1200, 1150)).toEqual({
      ok: false,
      missing: 50,
      message: '1200 completions, 1150 rows: 50 missing',
    })
    expect(checkStoredMetrics(10, 12)).toMatchObject({
      ok: false,
      message: '10 completions, 12 rows: 2 more rows than completions',
    })
    // A request without an answer may or may not have reached the router: one extra row passes, two do not.
    expect(checkStoredMetrics(10, 11, 1).ok).toBe(true)
    expect(checkStoredMetrics(10, 12, 1).ok).toBe(false)
    expect(checkStoredMetrics(10, 9, 1)).toMatchObject({ ok: false, missing: 1 })
  })

  it('counts the completions the router writes a row for (200 and 5xx, not 4xx)', () => {
    expect(countCompletions({ '200': 90, '502': 3, '500': 1, '429': 7, '404': 2, error: 1 })).toBe(94)
  })
})

describe('outage attribution', () => {
  const at = (startedAt: number, endedAt: number, status = '502', completion = true): ResponseRecord => ({
    completion,
    status,
    startedAt,
    endedAt,
  })

  it('counts a failure as the outage’s when the request was in flight during it', () => {
    const window = { provider: 'alpha', startedAt: 1_000, endedAt: 2_000 }
    const responses = [
      at(900, 1_010), // started before, ended during
      at(1_500, 1_600),
      at(1_990, 2_050), // started during, ended after
      at(500, 600), // before
      at(2_100, 2_200), // after
      at(1_500, 1_600, '200'), // not a failure
      at(1_500, 1_600, '500', false), // not a completion
    ]
    expect(attributeFailures(responses, window)).toEqual({ failed: 5, during: 3, outside: 2 })
    expect(
      attributeFailures(responses, { provider: 'alpha', startedAt: undefined, endedAt: undefined }),
    ).toEqual({
      failed: 5,
      during: 0,
      outside: 5,
    })
  })
})

interface DemoRun {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

const children: ChildProcess[] = []
const dirs: string[] = []
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL')
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'router-demo-test-'))
  dirs.push(dir)
  return dir
}

/** Runs `src/demo.ts` as `pnpm demo` does; `onLine` sees stdout line by line. */
function runDemo(
  env: Record<string, string>,
  onLine: (line: string, child: ChildProcess) => void = () => {},
): Promise<DemoRun> {
  const child = spawn(process.execPath, ['--conditions=@hotpath/source', '--import', 'tsx', 'src/demo.ts'], {
    cwd: EXAMPLE,
    env: { ...process.env, NODE_OPTIONS: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.push(child)
  let stdout = ''
  let stderr = ''
  let pending = ''
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk
    pending += chunk
    const lines = pending.split('\n')
    pending = lines.pop()!
    for (const line of lines) onLine(line, child)
  })
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk
  })
  return new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }))
  })
}

describe('the demo process', () => {
  it('pnpm demo announces the outage, reports it, finds no row missing, removes its SQLite files and exits 0', async () => {
    const tmp = tempDir()
    const run = promisify(execFile)
    // The README's first command, from the repository root (shortened to 4 s).
    const { stdout } = await run('pnpm', ['demo'], {
      cwd: ROOT,
      env: { ...process.env, DEMO_SECONDS: '4', TMPDIR: tmp },
      timeout: 90_000,
    })
    const file = /SQLite ([^,)]+)/.exec(stdout)?.[1]
    expect(file?.startsWith(tmp)).toBe(true)
    expect(stdout).toMatch(/p50\s+\d+\.\d ms/)
    expect(stdout).toMatch(/p99\s+\d+\.\d ms/)
    expect(Number(/L1 hits\s+(\d+)/.exec(stdout)?.[1])).toBeGreaterThan(0)
    expect(stdout).toContain('Advice (@hotpath/metrics)')
    // Both transitions are announced with their time, in order, and the report gives the window.
    const down = /^(\d\d:\d\d:\d\d\.\d{3}) {2}outage: alpha is down \(answers 503\) for 1\.2 s$/m.exec(stdout)
    const up = /^(\d\d:\d\d:\d\d\.\d{3}) {2}outage over: alpha answers again/m.exec(stdout)
    expect(down).not.toBeNull()
    expect(up!.index).toBeGreaterThan(down!.index)
    expect(stdout).toContain(`alpha down from ${down![1]} to ${up![1]}`)
    const failed = Number(/statuses .*502: (\d+)/.exec(stdout)?.[1] ?? 0)
    const attributed =
      /failed completions \(5xx\): (?:none|all (\d+) in flight during the outage|(\d+) in flight during the outage, (\d+) outside it)/.exec(
        stdout,
      )
    expect(attributed).not.toBeNull()
    const [, all, during, outside] = attributed!
    expect(Number(all ?? 0) + Number(during ?? 0) + Number(outside ?? 0)).toBe(failed)
    // The rows are compared with the completions counted by the clients.
    const stored = /request metrics stored: (\d+) completions, (\d+) rows: none lost$/m.exec(stdout)
    expect(Number(stored?.[1])).toBeGreaterThan(0)
    expect(stored?.[2]).toBe(stored?.[1])
    expect(readdirSync(tmp).filter((name) => OWN_DIR.test(name))).toEqual([])
  }, 120_000)

  it('exits 1 and says how many rows are missing when the database drops some', async () => {
    const dir = tempDir()
    const file = join(dir, 'lossy.db')
    // The same table the router creates, with a trigger that silently skips every gpt-4o row:
    // the batch inserts succeed, the rows are not there.
    const sqlite = new Database(file)
    sqlite.exec(`
      CREATE TABLE request_metrics (
        id integer PRIMARY KEY AUTOINCREMENT, model varchar(100) NOT NULL, provider varchar(100) NOT NULL,
        status integer NOT NULL, latency_ms double precision NOT NULL, at bigint NOT NULL);
      CREATE TRIGGER lose_rows BEFORE INSERT ON request_metrics WHEN NEW.model = 'gpt-4o'
      BEGIN SELECT RAISE(IGNORE); END;`)
    sqlite.close()
    const run = await runDemo({ DEMO_SECONDS: '2', SQLITE_FILE: file })
    expect(run.code).toBe(1)
    const line = /request metrics stored: (\d+) completions, (\d+) rows: (\d+) missing$/m.exec(run.stdout)
    expect(line).not.toBeNull()
    const [completions, rows, missing] = line!.slice(1).map(Number) as [number, number, number]
    expect(rows).toBeGreaterThan(0)
    expect(missing).toBeGreaterThan(0)
    expect(completions - rows).toBe(missing)
    // The rows that were kept are exactly the other models'.
    const check = new Database(file, { readonly: true })
    const kept = check.prepare('SELECT count(*) AS n FROM request_metrics').get() as { n: number }
    check.close()
    expect(kept.n).toBe(rows)
    // A file the caller named is the caller's: the demo leaves it.
    expect(existsSync(file)).toBe(true)
  }, 90_000)

  it('removes its SQLite files when it fails to start', async () => {
    const tmp = tempDir()
    // The semaphores refuse 0 permits: the router fails after the database was created.
    const run = await runDemo({ DEMO_SECONDS: '2', TMPDIR: tmp, PROVIDER_CONCURRENCY: '0' })
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(/permits/)
    expect(readdirSync(tmp).filter((name) => OWN_DIR.test(name))).toEqual([])
  }, 90_000)

  it('on SIGINT stops, removes its SQLite files and exits 130', async () => {
    const tmp = tempDir()
    let file: string | undefined
    let existedWhileRunning = false
    const run = await runDemo({ DEMO_SECONDS: '30', TMPDIR: tmp }, (line, child) => {
      file ??= /SQLite ([^,)]+)/.exec(line)?.[1]
      if (line.includes('driving load')) {
        existedWhileRunning = file !== undefined && existsSync(file)
        setTimeout(() => child.kill('SIGINT'), 500)
      }
    })
    expect(existedWhileRunning).toBe(true)
    expect(run.code).toBe(130)
    expect(run.stdout).toContain('SIGINT: stopping the router and removing')
    expect(existsSync(file!)).toBe(false)
    expect(readdirSync(tmp).filter((name) => OWN_DIR.test(name))).toEqual([])
  }, 90_000)
})
