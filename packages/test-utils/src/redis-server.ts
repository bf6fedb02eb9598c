import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from './free-port'
import { pingRedis } from './services'

/** Options of {@link startRedis}. */
export interface StartRedisOptions {
  /** Port to listen on. @default a free port */
  port?: number
  /** Extra `redis-server` arguments, e.g. `['--cluster-enabled', 'yes']`. */
  args?: string[]
  /** Milliseconds to wait for the server to answer PING. @default 10_000 */
  startTimeout?: number
}

/** A real `redis-server` process started by a test. */
export interface RedisServer {
  readonly host: string
  readonly port: number
  /** `redis://127.0.0.1:<port>` */
  readonly url: string
  /** PID of the running process (undefined while stopped). */
  readonly pid: number | undefined
  /** Working directory (temp dir, removed by `stop()`). */
  readonly dir: string
  /** True while the process runs. */
  readonly running: boolean
  /** Graceful shutdown (SIGTERM), waits for exit and removes the temp dir. */
  stop(): Promise<void>
  /** SIGKILL, as a crash would; waits for the process to be gone. */
  kill(): Promise<void>
  /** Starts the server again on the same port (after `kill()` or with it still running). */
  restart(): Promise<void>
}

const running = new Set<ChildProcess>()
let exitHookInstalled = false

function installExitHook(): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.on('exit', () => {
    for (const child of running) child.kill('SIGKILL')
  })
}

function waitExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => child.once('exit', () => resolve()))
}

async function waitReady(
  url: string,
  child: ChildProcess,
  timeout: number,
  log: () => string,
): Promise<void> {
  const started = Date.now()
  for (;;) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with code ${child.exitCode}: ${log()}`)
    try {
      await pingRedis(url, 500)
      return
    } catch {
      if (Date.now() - started > timeout)
        throw new Error(`redis-server did not answer within ${timeout} ms: ${log()}`)
      await new Promise((r) => setTimeout(r, 25))
    }
  }
}

/**
 * Starts a real `redis-server` on a free port in a temp dir, with no persistence. The process is
 * killed when the test process exits, whatever happens.
 *
 * @example
 * const server = await startRedis()
 * const client = new Redis(server.url)
 * await server.kill()      // crash it
 * await server.restart()   // bring it back on the same port
 * await server.stop()
 */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisServer> {
  installExitHook()
  const host = '127.0.0.1'
  const extraArgs = options.args ?? []
  const clusterMode = extraArgs.includes('--cluster-enabled')
  const port = options.port ?? (await freePort(clusterMode ? { busOffset: 10_000 } : {}))
  const dir = mkdtempSync(join(tmpdir(), `hotpath-redis-${port}-`))
  const url = `redis://${host}:${port}`
  const timeout = options.startTimeout ?? 10_000
  let child: ChildProcess | undefined

  async function launch(): Promise<void> {
    const args = ['--port', String(port), '--bind', host, '--save', '', '--appendonly', 'no', '--dir', dir]
    args.push('--daemonize', 'no', '--protected-mode', 'no', ...extraArgs)
    const proc = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    proc.stdout?.on('data', (d: Buffer) => {
      output = (output + d.toString()).slice(-2_000)
    })
    proc.stderr?.on('data', (d: Buffer) => {
      output = (output + d.toString()).slice(-2_000)
    })
    running.add(proc)
    proc.once('exit', () => running.delete(proc))
    child = proc
    await waitReady(url, proc, timeout, () => output)
  }

  await launch()

  return {
    host,
    port,
    url,
    dir,
    get pid() {
      return child && child.exitCode === null && child.signalCode === null ? child.pid : undefined
    },
    get running() {
      return !!child && child.exitCode === null && child.signalCode === null
    },
    async stop() {
      if (child) {
        child.kill('SIGTERM')
        await waitExit(child)
      }
      rmSync(dir, { recursive: true, force: true })
    },
    async kill() {
      if (!child) return
      child.kill('SIGKILL')
      await waitExit(child)
    },
    async restart() {
      if (child && child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL')
        await waitExit(child)
      }
      await launch()
    },
  }
}
