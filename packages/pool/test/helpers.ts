import { getEventListeners } from 'node:events'
import { vi } from 'vitest'

export interface FakeResource {
  id: number
  broken: boolean
}

/** A factory whose create/destroy/validate calls are recorded and whose timing is tunable. */
export function fakeFactory(options: { createMs?: number; fail?: () => Error | undefined } = {}) {
  let next = 0
  const calls = { create: 0, destroy: 0, validate: 0 }
  const destroyed: FakeResource[] = []
  const factory = {
    create: async ({ signal }: { signal?: AbortSignal } = {}) => {
      calls.create++
      if (options.createMs) {
        // like a connect that honours its signal: the pool's close or createTimeout stops it
        await new Promise((resolve, reject) => {
          const timer = setTimeout(resolve, options.createMs)
          signal?.addEventListener('abort', () => {
            clearTimeout(timer)
            reject(signal.reason)
          })
        })
      }
      const error = options.fail?.()
      if (error) throw error
      return { id: next++, broken: false } as FakeResource
    },
    destroy: (resource: FakeResource) => {
      calls.destroy++
      destroyed.push(resource)
    },
    validate: (resource: FakeResource) => {
      calls.validate++
      return !resource.broken
    },
  }
  // Not enumerable: `createPool({ ...factory })` passes only the pool's own options.
  return Object.defineProperties(factory, {
    calls: { value: calls, enumerable: false },
    destroyed: { value: destroyed, enumerable: false },
  }) as typeof factory & { calls: typeof calls; destroyed: FakeResource[] }
}

export function useFakeTime(): void {
  vi.useFakeTimers({
    toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'],
  })
}

/** Lets promise chains run without moving time. */
export async function flush(): Promise<void> {
  // setImmediate is left real by useFakeTime, so this works with and without fake timers.
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve))
}

export function listeners(signal: AbortSignal): number {
  return getEventListeners(signal, 'abort').length
}
