import { AsyncResource, executionAsyncId } from 'node:async_hooks'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { poll } from '@hotpath/poller'
import pWaitFor from 'p-wait-for'
import { defineScenario } from '../lib/scenario'

const POLLERS = 10_000
const INTERVAL = 50
const WINDOW = 3_000
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {})

/**
 * A reference row, not a peer: the least any poller can do while running each loop's checks in
 * that loop's own async context (one `AsyncResource` per loop, entered per check, one timer per
 * round), with nothing else — no stop, deadline, hint, error handling, stats or scheduling.
 */
class BareLoop extends AsyncResource {
  constructor(
    readonly check: () => boolean,
    readonly resolve: () => void,
  ) {
    super('bare-loop', executionAsyncId())
  }
  run(): boolean {
    return this.check()
  }
}
const bare = { due: [] as BareLoop[], spare: [] as BareLoop[], armed: false }
function bareRound(): void {
  bare.armed = false
  const due = bare.due
  for (const loop of due) {
    if (loop.runInAsyncScope(loop.run, loop)) loop.resolve()
    else bare.spare.push(loop)
  }
  bare.due = bare.spare
  bare.spare = due
  due.length = 0
  if (bare.due.length > 0) armBare(INTERVAL)
}
function armBare(delay: number): void {
  if (bare.armed) return
  bare.armed = true
  setTimeout(bareRound, delay)
}

interface Contender {
  /** Starts POLLERS loops that check `isStopped()` every INTERVAL ms; resolves when all ended. */
  start(isStopped: () => boolean): Promise<unknown>
}

/** Starts POLLERS loops with `begin` and resolves when all of them ended. */
const all = (begin: () => Promise<unknown>) => Promise.all(Array.from({ length: POLLERS }, begin))

const contenders: Record<string, Contender> = {
  'hotpath poll': {
    start: (isStopped) => all(() => poll(isStopped, { interval: INTERVAL })),
  },
  'reference: bare AsyncResource per loop, one timer': {
    start: (isStopped) =>
      all(
        () =>
          new Promise<void>((resolve) => {
            bare.due.push(new BareLoop(isStopped, resolve))
            armBare(0) // first check on the next tick, as hotpath's
          }),
      ),
  },
  'p-wait-for': {
    start: (isStopped) => all(() => pWaitFor(isStopped, { interval: INTERVAL })),
  },
  'setTimeout loop': {
    start: (isStopped) =>
      all(
        () =>
          new Promise<void>((resolve) => {
            const tick = () => {
              if (isStopped()) resolve()
              else setTimeout(tick, INTERVAL)
            }
            tick()
          }),
      ),
  },
  // The plain loop most async code writes by hand: await a promise around setTimeout.
  'async loop + new Promise(setTimeout)': {
    start: (isStopped) =>
      all(async () => {
        while (!isStopped()) await new Promise((resolve) => setTimeout(resolve, INTERVAL))
      }),
  },
  'async loop + timers/promises': {
    start: (isStopped) =>
      all(async () => {
        while (!isStopped()) await sleep(INTERVAL)
      }),
  },
}

const STEADY_FROM = 500
const WARM_MS = 600
const ROUNDS = 5

interface Sample {
  cpuMs: number
  elu: number
  checks: number
  steadyUs: number
}

async function measureOne(contender: Contender, windowMs = WINDOW, collect = true): Promise<Sample> {
  if (collect) gc()
  await sleep(100)
  let stopped = false
  let checks = 0
  const isStopped = () => {
    checks++
    return stopped
  }
  const cpu = process.cpuUsage()
  const elu = performance.eventLoopUtilization()
  const done = contender.start(isStopped)
  // CPU from STEADY_FROM to the end: per-check cost once every loop is running
  await sleep(STEADY_FROM)
  const steadyCpu = process.cpuUsage()
  const steadyChecks = checks
  await sleep(windowMs - STEADY_FROM)
  const usage = process.cpuUsage(cpu)
  const steady = process.cpuUsage(steadyCpu)
  const loop = performance.eventLoopUtilization(elu)
  const counted = checks
  stopped = true
  await done
  return {
    cpuMs: (usage.user + usage.system) / 1_000,
    elu: loop.utilization,
    checks: counted,
    steadyUs: (steady.user + steady.system) / (counted - steadyChecks),
  }
}

/**
 * Heap held per running loop: growth of the used heap between two full GCs, one before the loops
 * start and one while all of them wait for their next check. Measured after the timed rounds, so
 * its GCs touch none of them.
 */
async function heapPerLoop(contender: Contender): Promise<number> {
  gc()
  const before = process.memoryUsage().heapUsed
  let stopped = false
  const done = contender.start(() => stopped)
  await sleep(INTERVAL / 2)
  gc()
  const held = process.memoryUsage().heapUsed - before
  stopped = true
  await done
  return held / POLLERS
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!

export default defineScenario({
  name: 'poller/10k-pollers',
  description: `${POLLERS.toLocaleString('en')} concurrent pollers, ${INTERVAL} ms interval, trivial check, ${WINDOW / 1_000} s: CPU time and event-loop utilization (median of ${ROUNDS} interleaved rounds), heap held per loop`,
  measure: async () => {
    // Rounds interleave the contenders, so a noisy neighbour on the machine hurts every row alike.
    const samples = new Map<string, Sample[]>(Object.keys(contenders).map((name) => [name, []]))
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, contender] of Object.entries(contenders)) {
        // V8 drops optimized code that was not run across major GCs, so a contender whose code
        // sat idle while the others ran would pay its JIT again inside the window, while Node's
        // timers (which this harness keeps using) stay warm. Two short unmeasured runs first
        // measure every contender warm. Two, because a full GC also drops the hidden classes no
        // live object uses: the first run learns its objects' field types anew, and the code it
        // compiles while starting its loops is thrown away when a field first takes another type
        // (a loop's first check or end), so only code compiled in a second run lasts into the
        // window. The forced GC comes before those runs, not between them and the measured one:
        // a forced (memory-reducing) GC flushes compiled code, and the measured round would
        // compile it again.
        await measureOne(contender, WARM_MS)
        await measureOne(contender, WARM_MS, false)
        samples.get(name)!.push(await measureOne(contender, WINDOW, false))
      }
    }
    const heap = new Map<string, number>()
    for (const [name, contender] of Object.entries(contenders)) heap.set(name, await heapPerLoop(contender))
    const rows = [...samples].map(([name, list]) => ({
      name,
      heapBytes: heap.get(name)!,
      cpuMs: median(list.map((s) => s.cpuMs)),
      elu: median(list.map((s) => s.elu)),
      checks: median(list.map((s) => s.checks)),
      steadyUs: median(list.map((s) => s.steadyUs)),
    }))
    const hotpath = rows[0]!
    return rows.map((row) => ({
      name: row.name,
      'CPU ms': Math.round(row.cpuMs),
      'CPU × hotpath': Number((row.cpuMs / hotpath.cpuMs).toFixed(2)),
      ELU: Number(row.elu.toFixed(3)),
      'ELU × hotpath': Number((row.elu / hotpath.elu).toFixed(2)),
      checks: row.checks,
      'steady µs CPU/check': Number(row.steadyUs.toFixed(3)),
      'heap bytes/loop': Math.round(row.heapBytes),
    }))
  },
})
