import { AsyncResource, executionAsyncId } from 'node:async_hooks'
import { checkBoolean, checkFunction, checkString, readOptions } from '../options'

/**
 * Where a pending entry sits: the group of entries due in the same millisecond.
 * @internal
 */
export interface Bucket {
  /** The service the bucket belongs to (and so every entry in it). */
  readonly owner: EntryOwner
  heapIndex: number
  /** Due time, whole milliseconds on the service's monotonic clock. */
  at: number
  /** Entries by slot; `undefined` where one was removed or has fired. Only the first `size` are used. */
  entries: (TimerEntry | undefined)[]
  size: number
  /** Entries still pending in the bucket. */
  live: number
  /** Set once the bucket left the heap (it is firing): it takes no new entries. */
  closed: boolean
}

/**
 * The service an entry is pending on: told when the entry's ref state changes, asked to remove
 * it when it is added to another service.
 * @internal
 */
export interface EntryOwner {
  refChanged(entry: TimerEntry): void
  remove(entry: TimerEntry): boolean
}

/**
 * Options of a {@link TimerEntry}.
 *
 * @example
 * const housekeeping: TimerEntryOptions = { ref: false, name: 'cache:sweep' }
 */
export interface TimerEntryOptions {
  /**
   * Whether the entry keeps the process alive while it is pending. True for an entry that ends
   * a caller's wait (a poll's next check, a deadline); false for housekeeping. @default true
   */
  ref?: boolean
  /** The async resource type shown to `async_hooks`. @default 'hotpath:timer' */
  name?: string
}

const ENTRY_OPTIONS = ['ref', 'name']

function checkEntryOptions(options: TimerEntryOptions): void {
  const raw = readOptions('new TimerEntry()', options, ENTRY_OPTIONS)
  if (raw.ref !== undefined) checkBoolean('ref', raw.ref)
  if (raw.name !== undefined) checkString('name', raw.name)
}

/**
 * One wake-up or deadline of a {@link TimerService}. An entry is an `AsyncResource` created in
 * its owner's async context: the service runs {@link TimerEntry.fire} inside that context, so
 * `AsyncLocalStorage` values of the code that created the entry are visible when it fires. An
 * owner keeps one entry per recurring purpose and adds it again each time (an entry is pending
 * at most once; adding it again moves it).
 *
 * @example
 * class Refresh extends TimerEntry {
 *   fire(): void { void reload() }
 * }
 * const refresh = new Refresh({ ref: false })
 * getTimerService().add(refresh, 60_000)
 */
export abstract class TimerEntry extends AsyncResource {
  /** @internal the bucket holding the entry while it is pending */
  bucket: Bucket | undefined = undefined
  /** @internal the entry's slot in its bucket while pending; -1 otherwise */
  slot = -1
  #referenced: boolean

  constructor(options?: TimerEntryOptions) {
    if (options !== undefined) checkEntryOptions(options)
    // The documented default trigger, passed as a number rather than in an options object.
    super(options?.name ?? 'hotpath:timer', executionAsyncId())
    this.#referenced = options?.ref ?? true
  }

  /** True while the entry waits to fire. */
  get pending(): boolean {
    return this.bucket !== undefined
  }

  /** Due time on the service's monotonic clock (whole milliseconds) while pending; -1 otherwise. */
  get at(): number {
    return this.bucket === undefined ? -1 : this.bucket.at
  }

  /** Whether the entry keeps the process alive while pending. */
  get referenced(): boolean {
    return this.#referenced
  }

  /** Keeps the process alive while this entry is pending (the default). Returns the entry. */
  ref(): this {
    return this.#setRef(true)
  }

  /** Lets the process exit while only unref'd entries are pending. Returns the entry. */
  unref(): this {
    return this.#setRef(false)
  }

  #setRef(referenced: boolean): this {
    if (this.#referenced !== referenced) {
      this.#referenced = referenced
      this.bucket?.owner.refChanged(this)
    }
    return this
  }

  /**
   * Called once when the entry is due, in the async context the entry was created in. An error
   * it throws does not stop the other entries: it is rethrown on a microtask, as an uncaught
   * exception, the way an error thrown by a `setTimeout` callback surfaces.
   */
  abstract fire(): void
}

/**
 * A {@link TimerEntry} that calls a function: the simple way to use a {@link TimerService}.
 *
 * @example
 * const timeout = new Timeout(() => controller.abort())
 * getTimerService().add(timeout, 5_000)
 * // the work finished in time:
 * getTimerService().remove(timeout)
 */
export class Timeout extends TimerEntry {
  readonly #callback: () => void

  constructor(callback: () => void, options?: TimerEntryOptions) {
    checkFunction('callback', callback)
    super(options)
    this.#callback = callback
  }

  fire(): void {
    this.#callback()
  }
}
