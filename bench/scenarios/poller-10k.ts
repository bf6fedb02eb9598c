import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { poll } from '@hotpath/poller'
import pWaitFor from 'p-wait-for'
import { defineScenario } from '../lib/scenario'

const POLLERS = 10_000
const INTERVAL = 50
const WINDOW = 3_000
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {})

interface Contender {
  /** Starts POLLERS loops that check `isStopped()` every INTERVAL ms; resolves when all ended. */
  start(isStopped: () => boolean): Promise<unknown>
}

const contenders: Record<string, Contender> = {
  'hotpath poll': {
    start: (isStopped) =>
      Promise.all(Array.from({ length: POLLERS }, () => poll(isStopped, { interval: INTERVAL }))),
  },
  'p-wait-for': {
    start: (isStopped) =>
      Promise.all(Array.from({ length: POLLERS }, () => pWaitFor(isStopped, { interval: INTERVAL }))),
  },
  'setTimeout loop': {
    start: (isStopped) =>
      Promise.all(
        Array.from(
          { length: POLLERS },
          () =>
            new Promise<void>((resolve) => {
              const tick = () => {
                if (isStopped()) resolve()
                else setTimeout(tick, INTERVAL)
              }
              tick()
            }),
        ),
      ),
  },
  'async loop + timers/promises': {
    start: (isStopped) =>
      Promise.all(
        Array.from({ length: POLLERS }, async () => {
          while (!isStopped()) await sleep(INTERVAL)
        }),
      ),
  },
}

async function measureOne(contender: Contender, windowMs = WINDOW) {
  gc()
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
  await sleep(windowMs)
  const usage = process.cpuUsage(cpu)
  const loop = performance.eventLoopUtilization(elu)
  const counted = checks
  stopped = true
  await done
  const cpuMs = (usage.user + usage.system) / 1_000
  return { cpuMs, elu: loop.utilization, checks: counted, usPerCheck: (cpuMs * 1_000) / counted }
}

export default defineScenario({
  name: 'poller/10k-pollers',
  description: `${POLLERS.toLocaleString('en')} concurrent pollers, ${INTERVAL} ms interval, trivial check, ${WINDOW / 1_000} s: CPU time and event-loop utilization`,
  measure: async () => {
    const rows: { name: string; cpuMs: number; elu: number; checks: number; usPerCheck: number }[] = []
    // Warm every contender up first (JIT, module state), so the order of the rows does not matter.
    for (const contender of Object.values(contenders)) await measureOne(contender, 500)
    for (const [name, contender] of Object.entries(contenders))
      rows.push({ name, ...(await measureOne(contender)) })
    const hotpath = rows[0]!
    return rows.map((row) => ({
      name: row.name,
      'CPU ms': Math.round(row.cpuMs),
      ELU: Number(row.elu.toFixed(3)),
      checks: row.checks,
      'µs CPU/check': Number(row.usPerCheck.toFixed(2)),
      'CPU × hotpath': Number((row.cpuMs / hotpath.cpuMs).toFixed(2)),
    }))
  },
})
