// Runs each example once against the built packages: the examples' own scripts load the packages'
// TypeScript source (`--conditions=@hotpath/source`); their `*:dist` scripts leave that condition
// out, so `@hotpath/*` resolves to dist/ as for an installed user, and dist-only.mjs refuses any
// module resolved to packages/*/src. A short real run of each app (it serves requests, reports,
// and exits on its own or on SIGTERM) must end with exit code 0 within a deadline.
// Needs `pnpm build` first. `pnpm examples:dist`.
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../..', import.meta.url))
const started = performance.now()
const seconds = (from = started) => `${((performance.now() - from) / 1000).toFixed(1)} s`
const RUN_TIMEOUT_MS = 120_000

class Failure extends Error {}
const fail = (message) => {
  throw new Failure(message)
}

/** The node arguments of an example's package.json script (`node <args...>`, no shell syntax). */
function scriptArgs(example, name) {
  const { scripts = {} } = JSON.parse(readFileSync(join(root, 'examples', example, 'package.json'), 'utf8'))
  const script = scripts[name] ?? fail(`examples/${example} has no "${name}" script`)
  const [command, ...args] = script.trim().split(/\s+/)
  if (command !== 'node' || /[;&|<>$`]/.test(script))
    fail(`examples/${example} "${name}" is not a plain node command`)
  if (args.some((a) => a.includes('@hotpath/source'))) fail(`examples/${example} "${name}" loads the source`)
  return args
}

/** Starts an example script; `exited` resolves with its exit, killing it at the deadline. */
function start(example, name, env) {
  const child = spawn(process.execPath, scriptArgs(example, name), {
    cwd: join(root, 'examples', example),
    env: { ...process.env, NODE_OPTIONS: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const listeners = []
  const collect = (chunk) => {
    output += chunk
    for (const listener of listeners) listener(output)
  }
  child.stdout.setEncoding('utf8').on('data', collect)
  child.stderr.setEncoding('utf8').on('data', collect)
  const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS)
  const exited = new Promise((resolve) =>
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, output })
    }),
  )
  /** Resolves with the first match of `pattern` in the output, or fails when the process ends first. */
  const waitFor = (pattern) =>
    new Promise((resolve, reject) => {
      const check = (text) => {
        const match = pattern.exec(text)
        if (match) resolve(match)
      }
      listeners.push(check)
      check(output)
      exited.then(({ code, signal, output: text }) =>
        reject(
          new Failure(
            `examples/${example} ${name} ended (${signal ?? `exit ${code}`}) before ${pattern}:\n${text}`,
          ),
        ),
      )
    })
  return { child, exited, waitFor }
}

/** Waits for a run to end and checks it exited 0 and printed what `pattern` describes. */
async function finished(example, name, run, pattern, check) {
  const { code, signal, output } = await run.exited
  const label = `examples/${example} ${name}`
  if (signal)
    fail(`${label} ended by ${signal} (${signal === 'SIGKILL' ? 'deadline passed' : 'signal'}):\n${output}`)
  if (code !== 0) fail(`${label} exited ${code}:\n${output}`)
  const match = pattern.exec(output) ?? fail(`${label} did not print ${pattern}:\n${output}`)
  check(match)
  return match
}

async function main() {
  const temp = mkdtempSync('/tmp/hotpath-examples-dist-')
  try {
    // model-router: the README's demo, 2 s of load with the provider outage, then its report.
    let begin = performance.now()
    const demo = start('model-router', 'demo:dist', {
      DEMO_SECONDS: '2',
      SQLITE_FILE: join(temp, 'router.db'),
    })
    await finished(
      'model-router',
      'demo:dist',
      demo,
      // The demo compares stored rows with completions itself and exits 1 on rows missing.
      /request metrics stored: (\d+) completions, (\d+) rows: (.*)/,
      (m) => {
        if (Number(m[1]) === 0 || Number(m[2]) === 0)
          fail(`model-router stored ${m[2]} metric rows for ${m[1]} completions: ${m[3]}`)
      },
    )
    console.log(`model-router demo:dist: exit 0 in ${seconds(begin)}`)

    // chat-room: the load run with its embedded server, a few WebSocket clients for 2 s.
    begin = performance.now()
    const chat = start('chat-room', 'load:dist', {
      LOAD_SECONDS: '2',
      LOAD_CLIENTS: '4',
      LOAD_ROOMS: '2',
      LOAD_SPAMMERS: '1',
    })
    await finished('chat-room', 'load:dist', chat, /rows in the database\s+(\d+)/, (m) => {
      if (Number(m[1]) === 0) fail('chat-room wrote no message to the database')
    })
    console.log(`chat-room load:dist: exit 0 in ${seconds(begin)}`)

    // token-manager: the server, 2 s of load against it, then SIGTERM (it closes and exits 0).
    begin = performance.now()
    const server = start('token-manager', 'start:dist', { PORT: '0', SQLITE_FILE: join(temp, 'tokens.db') })
    const [, url] = await server.waitFor(/listening on (http:\/\/\S+)/)
    const load = start('token-manager', 'load:dist', { TOKEN_MANAGER_URL: url, LOAD_SECONDS: '2' })
    try {
      await finished('token-manager', 'load:dist', load, /requests\s+(\d+)/, (m) => {
        if (Number(m[1]) === 0) fail('token-manager answered no request')
      })
    } finally {
      server.child.kill('SIGTERM')
    }
    const { code, signal, output } = await server.exited
    if (code !== 0)
      fail(`examples/token-manager start:dist did not exit 0 on SIGTERM (${signal ?? code}):\n${output}`)
    console.log(`token-manager start:dist + load:dist: exit 0 in ${seconds(begin)}`)
  } finally {
    rmSync(temp, { recursive: true, force: true })
  }
  console.log(`examples on dist passed in ${seconds()}`)
}

main().catch((error) => {
  console.error(error instanceof Failure ? `\nEXAMPLES ON DIST FAILED: ${error.message}` : error)
  process.exitCode = 1
})
