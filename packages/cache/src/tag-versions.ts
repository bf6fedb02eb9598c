import type { Entry } from './entry'

/**
 * The tag version counters this instance knows. An entry is valid while every tag it carries
 * still has the version it was written with. Versions come from L2's counters (or from local
 * counters without L2) and from the bus; clocks are never compared.
 */
export class TagVersions {
  readonly #known = new Map<string, number>()
  readonly #max: number
  /**
   * Bumped whenever a version is dropped without its new value being known (a tracked change, a
   * reset). A version read from L2 before a bump may predate the change it announced, so a read
   * that straddles a bump is not kept (see {@link observeSince}).
   */
  generation = 0

  constructor(max: number) {
    this.#max = max
  }

  get size(): number {
    return this.#known.size
  }

  get(tag: string): number | undefined {
    return this.#known.get(tag)
  }

  set(tag: string, version: number): void {
    if (this.#known.size >= this.#max && !this.#known.has(tag)) {
      // Forgetting versions only makes entries carrying those tags look invalid (safe), so a
      // full map is simply emptied instead of tracking recency on every hit.
      this.#known.clear()
    }
    this.#known.set(tag, version)
  }

  /** Raises a version when `version` is newer; -1 forgets the tag (its entries become invalid). */
  observe(tag: string, version: number): void {
    if (version < 0) {
      this.#known.delete(tag)
      return
    }
    const current = this.#known.get(tag)
    if (current === undefined || version > current) this.set(tag, version)
  }

  forget(tag: string): void {
    this.#known.delete(tag)
  }

  /** A tag's counter changed to a version not known yet: entries carrying it stop being valid. */
  invalidate(tag: string): void {
    this.generation++
    this.#known.delete(tag)
  }

  /**
   * Observes a version read from L2 when the read started at `generation`; forgets the tag instead
   * when a change was reported meanwhile, since the read may have been answered before it.
   */
  observeSince(generation: number, tag: string, version: number): void {
    if (generation === this.generation) this.observe(tag, version)
    else this.#known.delete(tag)
  }

  clear(): void {
    this.generation++
    this.#known.clear()
  }

  valid(entry: Entry): boolean {
    const tags = entry.tags!
    const versions = entry.versions!
    for (let i = 0; i < tags.length; i++) {
      if (this.#known.get(tags[i]!) !== versions[i]) return false
    }
    return true
  }

  /** Tags among `tags` whose version is not known here. */
  unknown(tags: readonly string[]): string[] {
    const out: string[] = []
    for (const tag of tags) if (!this.#known.has(tag)) out.push(tag)
    return out
  }
}
