import type { HeapItem } from '@hotpath/core'
import type { Lease } from './lease'

/** @internal Slot states. */
export const IDLE = 0
/** @internal */
export const BORROWED = 1
/** @internal */
export const CHECKING = 2
/** @internal */
export const GONE = 3

/** @internal One pooled resource and its bookkeeping. */
export interface Slot<T> {
  resource: T
  state: number
  createdAt: number
  /** Monotonic time after which the slot is retired (Infinity when no max lifetime). */
  expiresAt: number
  /** Last release (or creation). */
  lastUsedAt: number
  /** Last successful validation, release or creation. */
  lastCheckedAt: number
  uses: number
  lease: Lease<T> | undefined
  borrowedAt: number
  stack: string | undefined
  leakReported: boolean
}

/** @internal A queued acquire. */
export interface Waiter<T> extends HeapItem {
  priority: number
  seq: number
  deadline: number
  timeout: number
  enqueuedAt: number
  /** True while in the queue or being validated for; false once settled. */
  pending: boolean
  resolve: (lease: Lease<T>) => void
  reject: (error: unknown) => void
  signal: AbortSignal | undefined
  onAbort: (() => void) | undefined
  stack: string | undefined
  timer: DeadlineEntry<T>
}

/** @internal A waiter's entry in the deadline heap (a second heap position). */
export interface DeadlineEntry<T> extends HeapItem {
  at: number
  waiter: Waiter<T>
}

/** @internal Higher priority first, then arrival order. */
export function waiterBefore<T>(a: Waiter<T>, b: Waiter<T>): boolean {
  return a.priority > b.priority || (a.priority === b.priority && a.seq < b.seq)
}

/** @internal */
export function deadlineBefore<T>(a: DeadlineEntry<T>, b: DeadlineEntry<T>): boolean {
  return a.at < b.at
}
