// The offline pass of the cache-coherence scenario: from what every process recorded (times on one
// wall clock, corrected for each process's offset), invalidation lag and stale reads per phase.

/** What one process reported (flat arrays, see bench/lib/workers/coherence-worker.ts). */
export interface ProcessReport {
  /** key index, start, end, version seen (-1: miss), repeated */
  reads: number[]
  /** key index, sequence, start, ack, repeated */
  writes: number[]
  /** key index, time a bus message naming the key arrived, repeated */
  received: number[]
  /** time, recovery queue size, bus connected (1/0), repeated; one entry per change */
  states: number[]
  errors: number
  /** The cache's stats().l2, .bus and .recovery at the end. */
  l2?: unknown
  bus?: unknown
  recovery?: unknown
}

/** One probe: a write by one process, polled every ~1 ms by another. */
export interface ProbeSample {
  ack: number
  /** start time and version of each poll after the write was asked for */
  polls: number[]
  initial: number
}

export interface Phases {
  /** When the Redis server was killed (Infinity: never). */
  kill: number
  /** When every process had its bus connected and its recovery queue empty again. */
  recovered: number
  end: number
  start: number
}

export type PhaseName = 'steady' | 'outage' | 'after'

/**
 * The spans during which some process had changes waiting in its recovery queue or its bus
 * disconnected: the recovery guarantee does not hold there (whatever caused it: the kill, or L2
 * calls timing out on a loaded machine), so a stale read inside one is in the outage window.
 */
export function unsettledSpans(reports: ProcessReport[], end: number): Array<[number, number]> {
  const spans: Array<[number, number]> = []
  for (const { states } of reports) {
    let since: number | undefined
    for (let i = 0; i < states.length; i += 3) {
      const ok = states[i + 1] === 0 && states[i + 2] === 1
      if (!ok && since === undefined) since = states[i]!
      else if (ok && since !== undefined) {
        spans.push([since, states[i]!])
        since = undefined
      }
    }
    if (since !== undefined) spans.push([since, end])
  }
  return spans
}

export function phaseOf(t: number, phases: Phases): PhaseName {
  if (t < phases.kill) return 'steady'
  if (t < phases.recovered) return 'outage'
  return 'after'
}

/**
 * When each process was last seen going back to a connected bus with an empty recovery queue
 * after `kill` (the moment the recovery guarantee starts to hold); the latest over processes.
 */
export function recoveredAt(reports: ProcessReport[], kill: number, up: number): number {
  let latest = up
  for (const { states } of reports) {
    let okSince = Number.NEGATIVE_INFINITY
    for (let i = 0; i < states.length; i += 3) {
      const ok = states[i + 1] === 0 && states[i + 2] === 1
      if (!ok) okSince = Number.POSITIVE_INFINITY
      else if (okSince === Number.POSITIVE_INFINITY) okSince = states[i]!
    }
    if (okSince > latest && okSince >= kill) latest = okSince
  }
  return latest
}

export interface PhaseFigures {
  reads: number
  writes: number
  misses: number
  stale: number
  staleInBusWindow: number
  staleInOutageWindow: number
  staleOutside: number
  /** Longest time between the ack of the write a stale read missed and that read's start. */
  staleAgeMaxMs: number
  /** Examples of stale reads outside the windows, for the investigation. */
  outsideExamples: string[]
  lags: number[]
  probesUnfinished: number
  probes: number
}

const empty = (): PhaseFigures => ({
  reads: 0,
  writes: 0,
  misses: 0,
  stale: 0,
  staleInBusWindow: 0,
  staleInOutageWindow: 0,
  staleOutside: 0,
  staleAgeMaxMs: 0,
  outsideExamples: [],
  lags: [],
  probesUnfinished: 0,
  probes: 0,
})

/**
 * Every read is compared with the writes of its key (one writer per key, sequences acknowledged in
 * order): a read that started after the ack of sequence s and returned a version below s is stale.
 * It is inside the bus window when the reading process had not yet received a bus message naming
 * the key since that write started (and it is not the writer), inside the outage window when it
 * started between the kill and the recovery or while some process had a recovery queue waiting or
 * its bus disconnected (see {@link unsettledSpans}), outside otherwise.
 */
export function analyse(
  reports: ProcessReport[],
  probes: ProbeSample[],
  phases: Phases,
  keys: number,
): Record<PhaseName, PhaseFigures> {
  const figures = { steady: empty(), outage: empty(), after: empty() }
  const unsettled = unsettledSpans(reports, phases.end)
  // Per key: ack and start times indexed by sequence - 1.
  const acks: number[][] = Array.from({ length: keys }, () => [])
  const starts: number[][] = Array.from({ length: keys }, () => [])
  const owner: number[] = []
  reports.forEach((report, id) => {
    const w = report.writes
    for (let i = 0; i < w.length; i += 4) {
      const key = w[i]!
      const seq = w[i + 1]!
      acks[key]![seq - 1] = w[i + 3]!
      starts[key]![seq - 1] = w[i + 2]!
      owner[key] = id
      if (w[i + 2]! >= phases.start && w[i + 2]! < phases.end) figures[phaseOf(w[i + 2]!, phases)].writes++
    }
  })
  reports.forEach((report, id) => {
    const heard: number[][] = Array.from({ length: keys }, () => [])
    for (let i = 0; i < report.received.length; i += 2) {
      const key = report.received[i]!
      if (key >= 0) heard[key]!.push(report.received[i + 1]!)
    }
    const r = report.reads
    for (let i = 0; i < r.length; i += 4) {
      const key = r[i]!
      const start = r[i + 1]!
      const version = r[i + 3]!
      if (start < phases.start || start >= phases.end) continue
      const phase = phaseOf(start, phases)
      const f = figures[phase]
      f.reads++
      if (version === -1) {
        f.misses++
        continue
      }
      // The write that superseded the version read: stale if it was acknowledged before the read.
      const next = acks[key]![version]
      if (next === undefined || next >= start) continue
      f.stale++
      f.staleAgeMaxMs = Math.max(f.staleAgeMaxMs, start - next)
      if (phase === 'outage' || unsettled.some(([from, to]) => start >= from && start < to)) {
        f.staleInOutageWindow++
        continue
      }
      // The newest write acknowledged before the read: did its bus message reach this process?
      let seq = version + 1
      while (acks[key]![seq] !== undefined && acks[key]![seq]! < start) seq++
      const since = starts[key]![seq - 1]!
      const told = heard[key]!.some((t) => t >= since && t < start)
      if (owner[key] !== id && !told) f.staleInBusWindow++
      else {
        f.staleOutside++
        if (f.outsideExamples.length < 5)
          f.outsideExamples.push(
            `process ${id} key k${key}: read v${version} at +${(start - phases.start).toFixed(1)} ms, v${seq} acked ${(start - acks[key]![seq - 1]!).toFixed(1)} ms before by process ${owner[key]}${owner[key] === id ? ' (itself)' : `, bus message received ${told ? 'before' : 'not yet'}`}`,
          )
      }
    }
  })
  for (const probe of probes) {
    if (probe.ack < phases.start || probe.ack >= phases.end) continue
    const f = figures[phaseOf(probe.ack, phases)]
    f.probes++
    let fresh: number | undefined
    for (let i = 0; i < probe.polls.length; i += 2) {
      if (probe.polls[i + 1]! > probe.initial) {
        fresh = probe.polls[i]!
        break
      }
    }
    if (fresh === undefined) f.probesUnfinished++
    // A poll that started before the ack and saw the new version: visible at the ack.
    else f.lags.push(Math.max(0, fresh - probe.ack))
  }
  return figures
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!
}
