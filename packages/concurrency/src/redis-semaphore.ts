import { randomUUID } from 'node:crypto'
import {
  abortReason,
  checkBoolean,
  checkInteger,
  checkSignal,
  checkString,
  type Duration,
  getClock,
  invalidOption,
  parseDuration,
  schedule,
  type TimerHandle,
} from '@hotpath/core'
import { RedisUnavailableError, SemaphoreTimeoutError } from './errors'
import { readOptions } from './internal/options'
import { type RedisScriptClient, runScript, type Script } from './redis-client'
import {
  semaphoreAcquireScript,
  semaphoreCountScript,
  semaphoreExtendScript,
  semaphoreReleaseScript,
} from './redis-scripts'
import { Wakeups } from './redis-wakeups'

/**
 * Options of {@link redisSemaphore}.
 *
 * @example
 * const imports = redisSemaphore({ client: redis, key: 'imports', permits: 2, lease: '10s', retryInterval: '100ms' })
 */
export interface RedisSemaphoreOptions {
  /** An ioredis `Redis` or `Cluster`. */
  client: RedisScriptClient
  /** Name of the semaphore; stored as `<prefix>{<key>}`. */
  key: string
  /** Permits shared by every instance. */
  permits: number
  /**
   * Lease duration: a holder that dies (or stops extending) loses its permit after this long.
   * @default '30s'
   */
  lease?: Duration
  /**
   * Extend held leases automatically every `lease / 3` while the process lives.
   * @default true
   */
  autoExtend?: boolean
  /**
   * Default wait for a permit.
   * @default '30s'
   */
  timeout?: Duration
  /**
   * Pause between attempts while all permits are taken (with ±50% jitter).
   * @default '50ms'
   */
  retryInterval?: Duration
  /**
   * Longest wait for one Redis command.
   * @default '1s'
   */
  commandTimeout?: Duration
  /**
   * Key prefix.
   * @default 'hp:sem:'
   */
  prefix?: string
  /**
   * Wake waiters when a permit is released: a release PUBLISHes on `<key>:released`, and waiting
   * instances (subscribed through `client.duplicate()` only while they wait) try again at once
   * instead of at their next poll. `retryInterval` stays the fallback (leases that expire, a
   * subscription not yet made, a client without `duplicate()`).
   * @default true
   */
  wakeOnRelease?: boolean
}

/**
 * A permit held in Redis.
 *
 * @example
 * await using lease = await imports.acquire()
 * await importFile(path, { signal: lease.signal }) // aborted if the lease is lost
 */
export interface RedisLease extends AsyncDisposable {
  /** Unique id of this holder. */
  readonly token: string
  /** Aborts when the lease is lost (expired, or an extension found it gone). */
  readonly signal: AbortSignal
  /** Pushes the expiry `lease` into the future; false when the lease was already lost. */
  extend(): Promise<boolean>
  /** Gives the permit back (idempotent). */
  release(): Promise<void>
}

/**
 * Options of {@link RedisSemaphore.acquire}.
 *
 * @example
 * const options: RedisAcquireOptions = { signal, timeout: '10s' }
 * const lease = await imports.acquire(options)
 */
export interface RedisAcquireOptions {
  /**
   * Aborts the wait.
   * @default undefined
   */
  signal?: AbortSignal
  /**
   * Longest wait; rejects with `E_SEMAPHORE_TIMEOUT`.
   * @default the semaphore's `timeout`
   */
  timeout?: Duration
}

/**
 * A distributed semaphore; see {@link redisSemaphore}.
 *
 * @example
 * const exporters: RedisSemaphore = redisSemaphore({ client: redis, key: 'exports', permits: 3 })
 * const lease = await exporters.tryAcquire() // undefined when all 3 permits are held
 */
export interface RedisSemaphore {
  /** Takes a permit if one is free right now. */
  tryAcquire(): Promise<RedisLease | undefined>
  /** Waits (polling with jitter) for a permit. */
  acquire(options?: RedisAcquireOptions): Promise<RedisLease>
  /** Runs `fn` holding a permit; `fn` gets the lease's signal (aborted if the lease is lost). */
  run<R>(fn: (signal: AbortSignal) => R | PromiseLike<R>, options?: RedisAcquireOptions): Promise<Awaited<R>>
  /** Live holders (expired leases are dropped first). */
  count(): Promise<number>
}

/**
 * A semaphore shared through Redis: at most `permits` holders across every process. Each permit
 * is a lease in a sorted set that expires unless extended, so a holder that crashes frees its
 * permit after `lease`. Acquire/extend/release are single atomic scripts using Redis time; a
 * release wakes a waiting instance through pub/sub (`wakeOnRelease`), polling being the fallback.
 *
 * @example
 * import { redisSemaphore } from '@hotpath/concurrency/redis'
 * const renders = redisSemaphore({ client: redis, key: 'video-render', permits: 4, lease: '1m' })
 * await renders.run(async (signal) => render(job, { signal }), { timeout: '5m' })
 */
export function redisSemaphore(options: RedisSemaphoreOptions): RedisSemaphore {
  const raw = readOptions('redisSemaphore()', options, [
    'client',
    'key',
    'permits',
    'lease',
    'autoExtend',
    'timeout',
    'retryInterval',
    'commandTimeout',
    'prefix',
    'wakeOnRelease',
  ])
  const client = raw.client
  if (client === null || typeof client !== 'object' || typeof client.evalsha !== 'function') {
    throw invalidOption('client', 'an ioredis Redis or Cluster client', client)
  }
  const key = `${checkString('prefix', raw.prefix ?? 'hp:sem:', { allowEmpty: true })}{${checkString('key', raw.key)}}`
  const permits = checkInteger('permits', raw.permits, { min: 1 })
  const lease = parseDuration(raw.lease ?? '30s', 'lease')
  if (lease < 10) throw invalidOption('lease', 'a duration >= 10ms', raw.lease)
  const autoExtend = checkBoolean('autoExtend', raw.autoExtend ?? true)
  const defaultTimeout = parseDuration(raw.timeout ?? '30s', 'timeout', { allowInfinity: true })
  const retryInterval = parseDuration(raw.retryInterval ?? '50ms', 'retryInterval')
  const commandTimeout = parseDuration(raw.commandTimeout ?? '1s', 'commandTimeout')
  const wakeOnRelease = checkBoolean('wakeOnRelease', raw.wakeOnRelease ?? true)
  const channel = wakeOnRelease ? `${key}:released` : ''
  const wakeups = new Wakeups(
    wakeOnRelease && typeof client.duplicate === 'function' ? () => client.duplicate!() : undefined,
    channel,
  )
  const call = (code: Script, args: (string | number)[], timeout = commandTimeout) =>
    runScript(client, code, [key], args, timeout, getClock().monotonic())

  const makeLease = (token: string): RedisLease => {
    const controller = new AbortController()
    let released = false
    let timer: TimerHandle | undefined
    const lost = () => {
      timer?.cancel()
      if (!controller.signal.aborted)
        controller.abort(new RedisUnavailableError('The Redis semaphore lease was lost.'))
    }
    const extend = async () => {
      if (released || controller.signal.aborted) return false
      const ok = (await call(semaphoreExtendScript, [lease, token])) === 1
      if (!ok) lost()
      return ok
    }
    const arm = () => {
      if (!autoExtend || released) return
      timer = schedule(() => {
        extend().then(
          (ok) => ok && arm(),
          // A failed extension is retried on the next tick of the schedule until the lease runs out.
          () => arm(),
        )
      }, lease / 3).unref()
    }
    arm()
    return {
      token,
      signal: controller.signal,
      extend,
      async release() {
        if (released) return
        released = true
        timer?.cancel()
        await call(semaphoreReleaseScript, [token, channel])
      },
      async [Symbol.asyncDispose]() {
        await this.release()
      },
    }
  }

  /**
   * One attempt, bounded by `timeout`. An attempt that got no answer may still run later (the
   * client retries it, e.g. after a failover): a release of its token follows it, so such a permit
   * is not held by nobody until its lease ends.
   */
  const attempt = async (timeout: number): Promise<RedisLease | undefined> => {
    const token = randomUUID()
    let ok: boolean
    try {
      ok = (await call(semaphoreAcquireScript, [permits, lease, token], timeout)) === 1
    } catch (error) {
      call(semaphoreReleaseScript, [token, channel]).catch(() => {})
      throw error
    }
    return ok ? makeLease(token) : undefined
  }
  const tryAcquire = () => attempt(commandTimeout)

  /** Checks the options of an acquire (synchronously, before the first Redis call). */
  const readAcquire = (where: string, opts: RedisAcquireOptions | undefined) => {
    const checked = readOptions(where, opts, ['signal', 'timeout'])
    return {
      signal: checkSignal('signal', checked.signal),
      timeout:
        checked.timeout === undefined
          ? defaultTimeout
          : parseDuration(checked.timeout, 'timeout', { allowInfinity: true }),
    }
  }

  const wait = async (signal: AbortSignal | undefined, timeout: number): Promise<RedisLease> => {
    const started = getClock().monotonic()
    let lastError: unknown
    let unhold: (() => void) | undefined
    try {
      for (;;) {
        if (signal?.aborted) throw abortReason(signal)
        const seen = wakeups.generation
        try {
          // Never past the caller's timeout, even when Redis is slow to answer.
          const bound = Math.max(1, Math.min(commandTimeout, started + timeout - getClock().monotonic()))
          const held = await attempt(bound)
          if (held) return held
        } catch (error) {
          lastError = error
        }
        const left = started + timeout - getClock().monotonic()
        if (left <= 0) {
          throw new SemaphoreTimeoutError(
            timeout,
            `a permit of '${key}'`,
            lastError === undefined ? {} : { cause: lastError },
          )
        }
        // Subscribed from the first miss on, so an uncontended acquire costs no connection.
        unhold ??= wakeups.hold()
        await wakeups.sleep(Math.min(left, retryInterval * (0.5 + Math.random())), signal, seen)
      }
    } finally {
      unhold?.()
    }
  }

  const holding = async <R>(
    lease: Promise<RedisLease>,
    fn: (signal: AbortSignal) => R | PromiseLike<R>,
  ): Promise<Awaited<R>> => {
    const held = await lease
    try {
      return await fn(held.signal)
    } finally {
      await held.release().catch(() => {})
    }
  }

  return {
    tryAcquire,
    acquire(opts?: RedisAcquireOptions): Promise<RedisLease> {
      const { signal, timeout } = readAcquire('RedisSemaphore.acquire()', opts)
      return wait(signal, timeout)
    },
    run<R>(fn: (signal: AbortSignal) => R | PromiseLike<R>, opts?: RedisAcquireOptions): Promise<Awaited<R>> {
      if (typeof fn !== 'function') throw invalidOption('fn', 'a function', fn)
      const { signal, timeout } = readAcquire('RedisSemaphore.run()', opts)
      return holding(wait(signal, timeout), fn)
    },
    async count() {
      return Number(await call(semaphoreCountScript, []))
    },
  }
}
