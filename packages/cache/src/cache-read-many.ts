import { getClock } from '@hotpath/core'
import type { CacheCore } from './core'
import type { ResolvedPolicy } from './options'

/**
 * `getMany` once its keys are checked: L1 first, then one L2 call for the keys L1 missed.
 */
export async function readMany<T>(
  core: CacheCore,
  prefix: string,
  policy: ResolvedPolicy,
  keys: readonly string[],
): Promise<(T | undefined)[]> {
  core.assertOpen()
  // Filled, not `new Array(n)`: a miss is an `undefined` element, never a hole.
  const out: (T | undefined)[] = new Array(keys.length).fill(undefined)
  const missing: number[] = []
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!
    const entry = core.l1Hit(prefix + key)
    if (entry !== undefined) out[i] = entry.value as T
    else missing.push(i)
  }
  if (missing.length === 0) return out
  if (core.l1) core.l1.counters.misses += missing.length
  if (!core.l2) {
    core.counters.misses += missing.length
    return out
  }
  const fulls = missing.map((i) => prefix + keys[i]!)
  const entries = await core.readManyL2(fulls, policy)
  const later = getClock().now()
  for (let j = 0; j < missing.length; j++) {
    const entry = entries[j]
    if (entry !== undefined && entry.expiresAt > later) {
      core.l2.counters.hits++
      core.putL1(fulls[j]!, entry, undefined)
      out[missing[j]!] = entry.value as T
    } else core.counters.misses++
  }
  return out
}
