import { describe, expect, it } from 'vitest'
import { analyse, type ProcessReport, recoveredAt } from '../lib/coherence'
import { coherenceScenario } from '../scenarios/cache-coherence'

const report = (fields: Partial<ProcessReport>): ProcessReport => ({
  reads: [],
  writes: [],
  received: [],
  states: [],
  errors: 0,
  ...fields,
})

describe('cache-coherence analysis', () => {
  const phases = { start: 0, kill: 1_000, recovered: 2_000, end: 3_000 }
  // Process 0 owns key 0: v1 acked at 10, v2 acked at 100 (started at 95).
  const writer = report({ writes: [0, 1, 5, 10, 0, 2, 95, 100] })

  it('counts a read that started after an ack and returned an older version as stale', () => {
    const reader = report({
      // v1 at 150 (stale), v2 at 160 (fresh), v1 at 50 (before the ack of v2: not stale), miss at 170
      reads: [0, 150, 151, 1, 0, 160, 161, 2, 0, 50, 51, 1, 0, 170, 171, -1],
    })
    const steady = analyse([writer, reader], [], phases, 1).steady
    expect(steady.reads).toBe(4)
    expect(steady.writes).toBe(2)
    expect(steady.stale).toBe(1)
    expect(steady.misses).toBe(1)
    expect(steady.staleAgeMaxMs).toBe(50)
    // No bus message had reached the reader: inside the bus window.
    expect(steady.staleInBusWindow).toBe(1)
    expect(steady.staleOutside).toBe(0)
  })

  it('puts a stale read after the bus message, or by the writer itself, outside the windows', () => {
    const reader = report({ reads: [0, 150, 151, 1], received: [0, 120] })
    const self = report({ writes: writer.writes, reads: [0, 150, 151, 1] })
    expect(analyse([writer, reader], [], phases, 1).steady.staleOutside).toBe(1)
    expect(analyse([self], [], phases, 1).steady.staleOutside).toBe(1)
  })

  it('puts stale reads between the kill and the recovery in the outage window', () => {
    const writes = report({ writes: [0, 1, 5, 10, 0, 2, 1_100, 1_200] })
    const reader = report({ reads: [0, 1_500, 1_501, 1, 0, 2_500, 2_501, 1], received: [0, 2_100] })
    const figures = analyse([writes, reader], [], phases, 1)
    expect(figures.outage.staleInOutageWindow).toBe(1)
    expect(figures.after.staleOutside).toBe(1)
  })

  it('puts a stale read while a process has changes waiting for L2 in the outage window', () => {
    // The reader's own queue held a change from 120 to 180 (L2 calls timing out), Redis never killed.
    const reader = report({
      reads: [0, 150, 151, 1, 0, 200, 201, 1],
      received: [0, 120],
      states: [0, 0, 1, 120, 1, 1, 180, 0, 1],
    })
    const steady = analyse(
      [writer, reader],
      [],
      { ...phases, kill: 5_000, recovered: 5_000, end: 6_000 },
      1,
    ).steady
    expect(steady.staleInOutageWindow).toBe(1)
    expect(steady.staleOutside).toBe(1)
  })

  it('measures probe lag from the ack to the first poll that saw the new version', () => {
    const probes = [{ ack: 100, initial: 3, polls: [99, 3, 101, 3, 104, 4] }]
    expect(analyse([], probes, phases, 1).steady.lags).toEqual([4])
  })

  it('takes the recovery when the last process has its bus back and its queue empty', () => {
    const a = report({ states: [0, 0, 1, 1_010, 0, 0, 1_500, 2, 1, 1_700, 0, 1] })
    const b = report({ states: [0, 0, 1, 1_020, 0, 0, 1_300, 0, 1] })
    expect(recoveredAt([a, b], 1_000, 1_200)).toBe(1_700)
  })
})

describe('pnpm bench --quick cache-coherence', () => {
  it('runs 4 processes through a Redis restart and reports lag and stale reads per phase', async () => {
    const scenario = coherenceScenario({ quick: true })
    const rows = await scenario.measure()
    expect(rows.map((r) => r.name)).toEqual([
      'steady (Redis up)',
      expect.stringMatching(/^outage: SIGKILL/),
      'after recovery',
    ])
    const [steady, outage, after] = rows as Array<Record<string, number | string>>
    for (const row of [steady!, after!]) {
      expect(row.reads).toBeGreaterThan(500)
      expect(row.writes).toBeGreaterThan(50)
      expect(row.probes).toBeGreaterThan(5)
      expect(row['lag p50 ms']).toBeGreaterThanOrEqual(0)
      expect(row['lag p99 ms']).toBeGreaterThanOrEqual(row['lag p50 ms'] as number)
      expect(row['outside windows']).toBe(0)
    }
    // Every key has a value before the clock starts, so a steady miss is a read whose L2 call
    // outlasted l2Timeout (1 s) — it happens when the CI machine stalls a process, never as a rule.
    expect(steady!.misses as number).toBeLessThanOrEqual((steady!.reads as number) / 1_000)
    expect(outage!['phase s']).toBeGreaterThan(0)
    expect(outage!['outside windows']).toBe(0)
    for (const row of rows) {
      expect(row['stale reads']).toBe(
        (row['in bus window'] as number) +
          (row['in outage window'] as number) +
          (row['outside windows'] as number),
      )
    }
  }, 60_000)
})
