import { createHash } from 'node:crypto'
import { getTimerService, HotpathError, Timeout } from '@hotpath/core'
import { RedisUnavailableError } from './errors'
import type { RedisWakeSubscriber } from './redis-wakeups'

/**
 * The part of a Redis client the concurrency package uses: an ioredis `Redis` or `Cluster`
 * satisfies it (ioredis stays an optional peer; nothing imports its types).
 *
 * @example
 * import { Redis } from 'ioredis'
 * const client: RedisScriptClient = new Redis(process.env.REDIS_URL ?? 'redis://localhost:6379')
 */
export interface RedisScriptClient {
  /** Runs a cached script by SHA1 (`EVALSHA`). */
  evalsha(sha: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>
  /** Runs (and caches) a script (`EVAL`). */
  eval(script: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>
  /** ioredis connection status; anything but `'ready'` means a command would sit in its offline queue. */
  readonly status?: string
  /** A new connection with the same options (ioredis `duplicate()`), for SUBSCRIBE. */
  duplicate?(): RedisWakeSubscriber
}

/** A Lua script with its SHA1. @internal */
export interface Script {
  readonly source: string
  readonly sha: string
}

/** @internal */
export function script(source: string): Script {
  return { source, sha: createHash('sha1').update(source).digest('hex') }
}

/**
 * Runs a script with EVALSHA (falling back to EVAL on NOSCRIPT), bounded by `timeout` on core's
 * shared timer service. Refuses at once when the client is not ready, so a call never waits in ioredis's
 * offline queue. @internal
 */
export function runScript(
  client: RedisScriptClient,
  code: Script,
  keys: string[],
  args: (string | number)[],
  timeout: number,
  now: number,
): Promise<unknown> {
  if (client.status !== undefined && client.status !== 'ready') {
    return Promise.reject(new RedisUnavailableError(`The Redis client is ${client.status}, not ready.`))
  }
  return new Promise<unknown>((resolve, reject) => {
    let settled = false
    const timers = getTimerService()
    const entry = new Timeout(() => {
      if (settled) return
      settled = true
      reject(new RedisUnavailableError(`Redis did not answer within ${timeout} ms.`))
    })
    timers.addAt(entry, now + timeout)
    const done = (error: unknown, value?: unknown) => {
      if (settled) return
      settled = true
      timers.remove(entry)
      if (error === undefined) resolve(value)
      else
        reject(error instanceof HotpathError ? error : new RedisUnavailableError(undefined, { cause: error }))
    }
    client.evalsha(code.sha, keys.length, ...keys, ...args).then(
      (value) => done(undefined, value),
      (error: unknown) => {
        if (error instanceof Error && error.message.startsWith('NOSCRIPT')) {
          client.eval(code.source, keys.length, ...keys, ...args).then(
            (value) => done(undefined, value),
            (retryError: unknown) => done(retryError ?? new Error('EVAL failed')),
          )
        } else done(error ?? new Error('EVALSHA failed'))
      },
    )
  })
}
