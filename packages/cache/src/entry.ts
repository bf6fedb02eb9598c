import { CacheCodecError } from './errors'

/**
 * One cached value with its timestamps (wall-clock ms). Freshness is checked on read against
 * these fields; no timer ever fires for an entry.
 */
export class Entry {
  constructor(
    public value: unknown,
    /** When the value was produced. */
    public setAt: number,
    /** Fresh until this time. */
    public expiresAt: number,
    /** Servable as stale (grace) until this time; dead after. */
    public staleUntil: number,
    /** A hit at or after this time triggers a background refresh (Infinity: never). */
    public refreshAt: number,
    /** Full tag names, or undefined. */
    public tags: string[] | undefined,
    /** Tag versions when the value was produced, aligned with `tags`. */
    public versions: number[] | undefined,
    /** The bus epoch the entry was written or validated in. */
    public epoch: number,
    /** After a failed reload, no new load is tried before this time (fail-safe throttle). */
    public retryAt = 0,
  ) {}

  #settled: Promise<unknown> | undefined = undefined

  /** A resolved promise of the value, created on the first hit and shared by the later ones. */
  settled(): Promise<unknown> {
    // biome-ignore lint/suspicious/noAssignInExpressions: lazily created once per entry
    return (this.#settled ??= Promise.resolve(this.value))
  }
}

/** The array stored in L2: `[value, setAt, expiresAt, staleUntil, tags, versions]`. */
export type Envelope = [unknown, number, number, number, string[] | 0, number[] | 0]

export function toEnvelope(entry: Entry): Envelope {
  return [entry.value, entry.setAt, entry.expiresAt, entry.staleUntil, entry.tags ?? 0, entry.versions ?? 0]
}

export function fromEnvelope(data: unknown, eager: number, epoch: number): Entry {
  if (!Array.isArray(data) || data.length !== 6)
    throw new CacheCodecError('An L2 entry has an unknown layout.')
  const [value, setAt, expiresAt, staleUntil, tags, versions] = data as Envelope
  if (typeof setAt !== 'number' || typeof expiresAt !== 'number' || typeof staleUntil !== 'number') {
    throw new CacheCodecError('An L2 entry has invalid timestamps.')
  }
  const refreshAt = eager > 0 ? setAt + (expiresAt - setAt) * eager : Number.POSITIVE_INFINITY
  const hasTags = Array.isArray(tags) && Array.isArray(versions) && tags.length === versions.length
  return new Entry(
    value,
    setAt,
    expiresAt,
    staleUntil,
    refreshAt,
    hasTags ? tags : undefined,
    hasTags ? versions : undefined,
    epoch,
  )
}
