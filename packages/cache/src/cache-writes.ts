// What the write methods of a Cache do once their arguments are checked: store, delete, invalidate
// tags and clear, in L1 and L2, announcing each change on the bus.
import type { CacheCore } from './core'
import type { ResolvedPolicy } from './options'

/** A write checked and resolved before anything is stored. */
export interface PreparedWrite {
  full: string
  value: unknown
  policy: ResolvedPolicy
  tags: string[] | undefined
}

export async function storePrepared(
  core: CacheCore,
  rootPolicy: ResolvedPolicy,
  prepared: PreparedWrite[],
  silent: boolean,
): Promise<void> {
  core.assertOpen()
  const items = []
  let background = rootPolicy.l2Background
  // One L2 budget for the call: tag versions and the write share it. It starts with the first
  // L2 call; a lone write is bounded by the tier's own timeout.
  let deadline: number | undefined
  for (const { full, value, policy, tags } of prepared) {
    if (policy.l2Background !== rootPolicy.l2Background) background = policy.l2Background
    if (tags !== undefined && core.l2 !== undefined) deadline ??= core.budget()
    const versions = tags === undefined ? undefined : await core.tagVersions(tags, deadline)
    core.invalidateLocal(full)
    // A tagged value whose tag versions cannot be read is not stored: it could outlive an
    // invalidation it never heard of.
    const entry =
      tags !== undefined && versions === undefined
        ? undefined
        : core.makeEntry(value, policy.ttl, policy, tags, versions)
    items.push({ full, entry })
  }
  await core.write(items, background, silent, deadline)
}

export async function deleteFulls(core: CacheCore, fulls: string[]): Promise<void> {
  core.assertOpen()
  for (const full of fulls) core.invalidateLocal(full)
  if (!core.l2) {
    core.publish({ k: fulls })
    return
  }
  const recovery = core.recovery
  if (recovery !== undefined && recovery.size > 0) for (const full of fulls) recovery.supersede(full)
  const storeKeys = fulls.map((full) => core.storeKey(full))
  try {
    await core.l2.run('delete', (s) => s.delete(storeKeys))
  } catch (error) {
    if (recovery === undefined) {
      core.publish({ k: fulls })
      throw error
    }
    for (const full of fulls) recovery.keepDelete(full)
    return
  }
  core.publish({ k: fulls })
}

export async function invalidateFullTags(core: CacheCore, fulls: string[] | undefined): Promise<void> {
  core.assertOpen()
  if (fulls === undefined) return
  if (!core.l2) {
    const pairs: [string, number][] = fulls.map((tag) => [tag, (core.tags.get(tag) ?? 0) + 1])
    for (const [tag, version] of pairs) core.tags.set(tag, version)
    core.publish({ t: pairs })
    return
  }
  const recovery = core.recovery
  if (recovery !== undefined && recovery.size > 0) for (const tag of fulls) recovery.supersedeTag(tag)
  try {
    const generation = core.tags.generation
    const versions = await core.l2.run('bumpTagVersions', (s) => s.bumpTagVersions(fulls))
    const pairs: [string, number][] = fulls.map((tag, i) => [tag, versions[i]!])
    for (const [tag, version] of pairs) core.tags.observeSince(generation, tag, version)
    core.publish({ t: pairs })
  } catch (error) {
    // Forgetting the versions makes every entry carrying these tags invalid here and elsewhere
    // until the versions can be read from L2 again (here: once the bump is replayed).
    for (const tag of fulls) core.tags.forget(tag)
    core.publish({ t: fulls.map((tag) => [tag, -1]) })
    if (recovery === undefined) throw error
    for (const tag of fulls) recovery.keepTag(tag)
  }
}

export async function clearPrefix(core: CacheCore, prefix: string): Promise<void> {
  core.assertOpen()
  core.clearLocal(prefix)
  if (!core.l2) {
    core.publish({ c: prefix })
    return
  }
  const storePrefix = core.storeKey(prefix)
  try {
    await core.l2.run('clear', (s) => s.clear(storePrefix))
    // Changes still waiting for keys under the prefix are older than the clear.
    core.recovery?.supersedePrefix(prefix)
  } finally {
    core.publish({ c: prefix })
  }
}
