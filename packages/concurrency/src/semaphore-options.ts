import { checkInteger, checkNumber, checkSignal, checkString, parseDuration } from '@hotpath/core'
import { readOptions } from './internal/options'
import type { RunOptions, SemaphoreOptions } from './semaphore-types'

const SEMAPHORE_OPTIONS = ['permits', 'maxQueue', 'timeout', 'taskTimeout', 'name']
/** The option names `Semaphore.acquire()` accepts. */
export const ACQUIRE_OPTIONS = ['signal', 'timeout', 'priority', 'weight']
/** The option names `Semaphore.run()` accepts. */
export const RUN_OPTIONS = [...ACQUIRE_OPTIONS, 'taskTimeout']
const INFINITE = Number.POSITIVE_INFINITY

/** The checked options of `new Semaphore()`, defaults applied. */
export interface SemaphoreSettings {
  permits: number
  maxQueue: number
  timeout: number
  taskTimeout: number
  name: string
}

/** The checked options of one `acquire()` or `run()` call. */
export interface CallOptions {
  weight: number
  priority: number
  signal: AbortSignal | undefined
  timeout: number
  taskTimeout: number
}

/** Checks the options of `new Semaphore()` (throws on a bad option) and applies the defaults. */
export function parseSemaphoreOptions(options: SemaphoreOptions | undefined): SemaphoreSettings {
  const raw = readOptions('new Semaphore()', options, SEMAPHORE_OPTIONS)
  return {
    permits: checkInteger('permits', raw.permits ?? 1, { min: 1 }),
    maxQueue: checkInteger('maxQueue', raw.maxQueue ?? 100_000, { min: 0, allowInfinity: true }),
    timeout: parseDuration(raw.timeout ?? INFINITE, 'timeout', { allowInfinity: true }),
    taskTimeout: parseDuration(raw.taskTimeout ?? INFINITE, 'taskTimeout', {
      allowInfinity: true,
      positive: true,
    }),
    name: checkString('name', raw.name ?? 'semaphore'),
  }
}

/**
 * Checks the options of one `acquire()` or `run()` call (throws on a bad option); `timeout` and
 * `taskTimeout` default to the semaphore's, and a weight may not exceed its `permits`.
 */
export function parseCallOptions(
  options: RunOptions,
  where: string,
  known: readonly string[],
  timeout: number,
  taskTimeout: number,
  permits: number,
): CallOptions {
  readOptions(where, options, known)
  const weight = options.weight ?? 1
  const priority = options.priority ?? 0
  if (weight !== 1) checkWeight(weight, permits)
  if (priority !== 0) checkNumber('priority', priority)
  return {
    weight,
    priority,
    signal: options.signal === undefined ? undefined : checkSignal('signal', options.signal),
    timeout:
      options.timeout === undefined
        ? timeout
        : parseDuration(options.timeout, 'timeout', { allowInfinity: true }),
    taskTimeout:
      options.taskTimeout === undefined
        ? taskTimeout
        : parseDuration(options.taskTimeout, 'taskTimeout', { allowInfinity: true, positive: true }),
  }
}

/** Checks a weight: a whole number of permits, at least one and at most `permits`. */
export function checkWeight(weight: number, permits: number): void {
  checkInteger('weight', weight, { min: 1, max: permits })
}
