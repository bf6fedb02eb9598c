import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const fixture = fileURLToPath(new URL('./fixtures/exit.ts', import.meta.url))
const cwd = fileURLToPath(new URL('..', import.meta.url))

function run(
  mode: string,
  flags: string[] = [],
): Promise<{ code: number | null; lines: string[]; wallMs: number }> {
  const started = performance.now()
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      [...flags, '--conditions=@hotpath/source', '--import', 'tsx', fixture, mode],
      { cwd, timeout: 20_000 },
      (error, stdout) => {
        if (error?.killed) reject(new Error(`the child did not exit by itself: ${stdout}`))
        else
          resolve({
            code: child.exitCode,
            lines: stdout.trim().split('\n'),
            wallMs: performance.now() - started,
          })
      },
    )
  })
}

/** The millisecond figure printed after `prefix`. */
function at(lines: string[], prefix: string): number {
  const line = lines.find((l) => l.startsWith(prefix))
  if (line === undefined) throw new Error(`no '${prefix}' line in ${JSON.stringify(lines)}`)
  return Number(line.split(' ').at(-1))
}

describe('real time, in a child process', () => {
  it('after an abort nothing keeps the process alive: no timer, no listener, no queued check', async () => {
    const { code, lines } = await run('abort')
    expect(code).toBe(0)
    expect(lines.find((l) => l.startsWith('settled'))).toMatch(
      /^settled E_POLL_ABORTED,E_POLL_ABORTED,E_POLL_ABORTED /,
    )
    expect(lines.some((l) => l.startsWith('left watch'))).toBe(true)
    expect(lines.some((l) => l.startsWith('job stopped true'))).toBe(true)
    // exits right after the abort at 200 ms (the check's own 60 s timer was cleared by its signal,
    // the deadlines of 10 min and 1 h were removed)
    expect(at(lines, 'exit')).toBeLessThan(1_000)
  })

  it('a pending poll keeps the process alive until it settles, like setTimeout', async () => {
    const { code, lines } = await run('pending')
    expect(code).toBe(0)
    expect(at(lines, 'done true')).toBeGreaterThanOrEqual(290)
    expect(at(lines, 'exit')).toBeGreaterThanOrEqual(at(lines, 'done true'))
  })

  it('a settled poll, or a watch() never iterated, leaves nothing of the caller’s reachable: check, isDone, signal, final state', async () => {
    // Two polls one after the other: the second one is the last the timer service saw.
    const { code, lines } = await run('retain', ['--expose-gc'])
    expect(code).toBe(0)
    expect(lines.find((l) => l.startsWith('kept'))).toMatch(/^kept \[\] /)
  })

  it('an unref’d every() job does not hold the process', async () => {
    const { code, lines } = await run('unref')
    expect(code).toBe(0)
    expect(at(lines, 'exit')).toBeLessThan(500)
  })
})
