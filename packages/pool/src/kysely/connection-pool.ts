import type { Duration } from '@hotpath/core'
import { type PoolOptions, resolveOptions } from '../options'
import { createPool, type Pool } from '../pool'
import type { SqlConnection } from './sql-connection'

/**
 * Pool settings a dialect accepts (everything but the factory functions).
 *
 * @example
 * postgresDialect({ connectionString, pool: { max: 20, maxLifetime: '1h' } })
 */
export type DialectPoolOptions = Omit<
  PoolOptions<SqlConnection>,
  'create' | 'destroy' | 'validate' | 'isBroken' | 'isFatal'
>

function connectionPoolOptions(
  connect: (signal: AbortSignal) => Promise<SqlConnection>,
  options: DialectPoolOptions | undefined,
  name: string,
): PoolOptions<SqlConnection> {
  return {
    name,
    ...options,
    create: ({ signal }) => connect(signal),
    destroy: (connection) => connection.close(),
    validate: async (connection) => !connection.broken && (await connection.ping()),
    // Closed by the server while idle: destroyed on the way out, another connection is lent.
    isBroken: (connection) => connection.broken,
    isFatal: () => true,
  }
}

/**
 * Throws what {@link createConnectionPool} would throw for these options, without building the
 * pool: a dialect checks its options where it is created and opens connections on first use.
 * @internal
 */
export function checkConnectionPoolOptions(options: DialectPoolOptions | undefined, name: string): void {
  resolveOptions(connectionPoolOptions(() => Promise.reject(new Error('not connected')), options, name))
}

/** @internal Builds the pool of SQL connections used by a dialect. */
export function createConnectionPool(
  connect: (signal: AbortSignal) => Promise<SqlConnection>,
  options: DialectPoolOptions | undefined,
  name: string,
): Pool<SqlConnection> {
  return createPool<SqlConnection>(connectionPoolOptions(connect, options, name))
}

/**
 * Pools shared by every driver one dialect object creates (one per Kysely instance): opened by
 * the first driver's `init`, drained when the last initialised driver is destroyed, so destroying
 * one Kysely instance never closes the pool under another; a driver initialised after that opens
 * fresh pools.
 * @internal
 */
export class SharedPools<P extends { drain(options: { timeout: Duration }): Promise<unknown> }> {
  readonly #open: () => P
  #current: P | undefined
  #drained: P | undefined
  #users = 0

  /** `open` builds the pools on first use; the dialect has checked their options already. */
  constructor(open: () => P) {
    this.#open = open
  }

  /** The pools in use (opened on first call). */
  get current(): P {
    this.#current ??= this.#open()
    return this.#current
  }

  /** The pools to report stats of: those in use, else the last drained ones (never reopened). */
  get latest(): P {
    return this.#current ?? this.#drained ?? this.current
  }

  /** Counts a driver in and returns the pools it uses. */
  use(): P {
    this.#users++
    return this.current
  }

  /** Counts a driver out; the last one out drains the pools. */
  async release(pools: P): Promise<void> {
    if (pools !== this.#current) return
    if (--this.#users > 0) return
    this.#current = undefined
    this.#drained = pools
    await pools.drain({ timeout: '10s' })
  }
}
