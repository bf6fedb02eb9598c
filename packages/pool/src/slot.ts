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
