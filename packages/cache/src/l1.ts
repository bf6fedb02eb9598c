import { checkInteger, checkKnownOptions, checkOptionsObject, invalidOption } from '@hotpath/core'
import { LRUCache } from 'lru-cache'
import type { Entry } from './entry'
import { parseBytes } from './options'

/**
 * L1 (in-process memory) bounds. At least one bound must be finite.
 *
 * @example
 * const cache = createCache({ l1: { maxEntries: Number.POSITIVE_INFINITY, maxBytes: '64mb' } })
 */
export interface L1Options {
  /**
   * Most entries kept; the least recently used goes first. `Infinity` only together with `maxBytes`.
   * @default 10_000
   */
  maxEntries?: number
  /**
   * Most bytes kept, counting each entry as the length of its encoded form (`1048576`, `'64mb'`).
   * Setting it makes every write encode its value once.
   * @default no byte bound
   */
  maxBytes?: number | string
}

/** Option names of {@link L1Options}. */
export const L1_OPTIONS = ['maxEntries', 'maxBytes'] as const

/** L1 counters. */
export interface L1Counters {
  hits: number
  misses: number
  evictions: number
}

export interface L1 {
  readonly lru: LRUCache<string, Entry>
  readonly bytes: boolean
  readonly counters: L1Counters
}

export function createL1(options: L1Options | false | undefined): L1 | undefined {
  if (options === false) return undefined
  const raw = checkOptionsObject('l1', options, 'an options object or false')
  checkKnownOptions('`l1`', raw, L1_OPTIONS)
  const maxEntries = checkInteger('l1.maxEntries', raw.maxEntries ?? 10_000, { min: 1, allowInfinity: true })
  const maxBytes = raw.maxBytes === undefined ? undefined : parseBytes(raw.maxBytes, 'l1.maxBytes')
  if (maxEntries === Number.POSITIVE_INFINITY && maxBytes === undefined) {
    throw invalidOption(
      'l1.maxEntries',
      'a finite integer >= 1 when `l1.maxBytes` is not set (an unbounded L1 is refused)',
      maxEntries,
    )
  }
  const counters: L1Counters = { hits: 0, misses: 0, evictions: 0 }
  const config: Partial<LRUCache.OptionsBase<string, Entry, unknown>> = {
    dispose: (_value, _key, reason) => {
      if (reason === 'evict') counters.evictions++
    },
  }
  if (maxEntries !== Number.POSITIVE_INFINITY) config.max = maxEntries
  if (maxBytes !== undefined) config.maxSize = maxBytes
  const lru = new LRUCache<string, Entry>(config as LRUCache.Options<string, Entry, unknown>)
  return { lru, bytes: maxBytes !== undefined, counters }
}
