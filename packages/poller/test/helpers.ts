import { getEventListeners } from 'node:events'
import { vi } from 'vitest'

/** Fake time starting at 0 for both clocks. */
export function useFakeTime(): void {
  vi.useFakeTimers({ now: 0 })
}

/** Abort listeners left on a signal. */
export function abortListeners(signal: AbortSignal): number {
  return getEventListeners(signal, 'abort').length
}

/** Current fake time in ms. */
export function now(): number {
  return performance.now()
}

/** A promise's outcome without letting a rejection go unhandled. */
export function settleOf<T>(promise: Promise<T>): {
  readonly settled: boolean
  readonly value: T | undefined
  readonly error: unknown
  readonly at: number | undefined
} {
  const state = {
    settled: false,
    value: undefined as T | undefined,
    error: undefined as unknown,
    at: undefined as number | undefined,
  }
  promise.then(
    (value) => {
      state.settled = true
      state.value = value
      state.at = performance.now()
    },
    (error: unknown) => {
      state.settled = true
      state.error = error
      state.at = performance.now()
    },
  )
  return state
}

/** A check that resolves after `ms` of (fake) time, or rejects when its signal aborts. */
export function slow<T>(ms: number, value: T, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort)
      resolve(value)
    }, ms)
    const onAbort = () => {
      clearTimeout(timer)
      reject(signal.reason)
    }
    signal.addEventListener('abort', onAbort, { once: true })
  })
}
