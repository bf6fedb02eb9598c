/** A benchmark comparing tasks by throughput; every ratio is against the `baseline` task. */
export interface ThroughputScenario {
  /** `<package>/<what>`, e.g. `concurrency/semaphore-run`. */
  name: string
  /** One line saying what is measured. */
  description: string
  /** Name of the task every other row is compared with. */
  baseline: string
  /** Functions to time. Inputs must be generated before, never inside a task. */
  tasks: Record<string, () => unknown>
  /** Operations done by one task call (per-op figures divide by it). @default 1 */
  opsPerRun?: number
  /** Milliseconds to measure each task. @default 1_000 */
  time?: number
  /** Milliseconds of warm-up per task. @default 250 */
  warmupTime?: number
  /** Runs once after every task is measured. */
  teardown?: () => unknown
}

/** One row of a custom measurement: a label plus numeric (or short text) columns. */
export type MeasureRow = { name: string } & Record<string, number | string>

/** A benchmark that measures something other than throughput (CPU time, memory, counts). */
export interface MeasureScenario {
  name: string
  description: string
  /** Runs the measurement and returns the rows to print and store. */
  measure: () => Promise<MeasureRow[]> | MeasureRow[]
  /** Runs once after the measurement. */
  teardown?: () => unknown
}

export type Scenario = ThroughputScenario | MeasureScenario

/** What a scenario file exports by default: the scenario, or a function building it. */
export type ScenarioModule = Scenario | (() => Scenario | Promise<Scenario>)

/**
 * Declares a scenario (typed identity, so files stay small).
 *
 * @example
 * export default defineScenario(() => ({ name: 'core/duration', description: '...', baseline: 'ms', tasks: {...} }))
 */
export function defineScenario<T extends ScenarioModule>(scenario: T): T {
  return scenario
}

/** Narrows a scenario to the measure form. */
export function isMeasure(scenario: Scenario): scenario is MeasureScenario {
  return 'measure' in scenario
}
