import { checkKnownOptions, type Duration, invalidOption, parseDuration } from '@hotpath/core'

const PHASE_KEYS = ['until', 'every']

/**
 * One phase of a {@link phases} schedule.
 *
 * @example
 * const warmUp: Phase = { until: 50, every: '2s' }
 * phases([warmUp, { every: '500ms' }])
 */
export interface Phase {
  /** The phase applies while progress is below this value; omit on the last phase. @default Infinity */
  until?: number
  /** The interval during this phase. */
  every: Duration
}

/**
 * An interval schedule by progress, built with {@link phases}.
 *
 * @example
 * const schedule = phases([{ until: 50, every: '2s' }, { every: '500ms' }])
 * schedule.intervalFor(20) // 2000
 * schedule.intervalFor(80) // 500
 * schedule.longest // 2000
 */
export class PhaseSchedule {
  readonly #until: Float64Array
  readonly #every: Float64Array

  /** @internal use {@link phases} */
  constructor(list: readonly Phase[]) {
    if (!Array.isArray(list) || list.length === 0) {
      throw invalidOption('phases', 'a non-empty array of { until?, every }', list)
    }
    this.#until = new Float64Array(list.length)
    this.#every = new Float64Array(list.length)
    let previous = Number.NEGATIVE_INFINITY
    list.forEach((phase, i) => {
      if (phase === null || typeof phase !== 'object') {
        throw invalidOption(`phases[${i}]`, 'an object { until?, every }', phase)
      }
      checkKnownOptions(`\`phases[${i}]\``, phase, PHASE_KEYS)
      const last = i === list.length - 1
      const until = phase.until ?? (last ? Number.POSITIVE_INFINITY : undefined)
      if (typeof until !== 'number' || Number.isNaN(until) || until <= previous) {
        throw invalidOption(
          `phases[${i}].until`,
          last ? 'a number above the previous phase (or omitted)' : 'a number above the previous phase',
          phase.until,
        )
      }
      previous = until
      this.#until[i] = until
      this.#every[i] = parseDuration(phase.every, `phases[${i}].every`)
    })
  }

  /** The longest interval of the schedule, in milliseconds. */
  get longest(): number {
    let longest = 0
    for (const every of this.#every) if (every > longest) longest = every
    return longest
  }

  /** The interval for `progress` (the first phase when progress is not a number). */
  intervalFor(progress: unknown): number {
    const until = this.#until
    const last = until.length - 1
    if (typeof progress !== 'number' || Number.isNaN(progress)) return this.#every[0]!
    for (let i = 0; i < last; i++) if (progress < until[i]!) return this.#every[i]!
    return this.#every[last]!
  }
}

/**
 * An interval that depends on progress: the first phase whose `until` is above the current
 * progress applies; the last phase covers everything beyond.
 *
 * @example
 * // the video-job schedule: 5 s below 30%, 3 s below 70%, 2 s after
 * const interval = phases([{ until: 30, every: '5s' }, { until: 70, every: '3s' }, { every: '2s' }])
 * await poll(check, { interval, progress: (s) => s.percent, isDone: (s) => s.done })
 */
export function phases(list: readonly Phase[]): PhaseSchedule {
  return new PhaseSchedule(list)
}
