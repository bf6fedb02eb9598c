import type { Duration } from '@hotpath/core'
import type { CompiledQuery, DatabaseConnection, QueryResult } from 'kysely'
import type { Lease } from '../lease'
import type { Pool } from '../pool'
import type { SharedPools } from './connection-pool'
import { currentQuerySignal } from './query-signal'
import type { Reporting } from './reporting'
import { SessionConnection, SessionDriver, type TransactionSyntax } from './session'
import type { SqlConnection } from './sql-connection'

/**
 * A driver's lifecycle on a dialect's {@link SharedPools}: `init` counts it in, `destroy` counts
 * it out (the last one out drains the pools), and until `init` it uses the shared pools as they
 * are (opened on first use).
 * @internal
 */
export abstract class SharedPoolsDriver<
  P extends { drain(options: { timeout: Duration }): Promise<unknown> },
> extends SessionDriver {
  readonly #shared: SharedPools<P>
  readonly reporting: Reporting
  #pools: P | undefined

  constructor(shared: SharedPools<P>, reporting: Reporting, syntax: TransactionSyntax) {
    super(syntax)
    this.#shared = shared
    this.reporting = reporting
  }

  /** The pools this driver uses. */
  get pools(): P {
    return this.#pools ?? this.#shared.current
  }

  async init(): Promise<void> {
    this.#pools = this.#shared.use()
  }

  async destroy(): Promise<void> {
    const pools = this.#pools
    this.#pools = undefined
    if (pools !== undefined) await this.#shared.release(pools)
  }
}

/** @internal A Kysely connection holding one lease of a pool for its whole scope. */
export class LeasedConnection extends SessionConnection {
  constructor(lease: Lease<SqlConnection>, reporting: Reporting) {
    super(reporting)
    this.lease = lease
    lease.resource.keepAlive(true)
  }

  async hold(): Promise<Lease<SqlConnection>> {
    return this.lease as Lease<SqlConnection>
  }

  executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    return this.runHeld<R>(this.lease as Lease<SqlConnection>, compiled)
  }
}

/**
 * A Kysely `Driver` on top of a hotpath pool: connection waits honour the surrounding query signal,
 * and a connection that failed or whose query was aborted is destroyed on release.
 * @internal
 */
export class PooledDriver extends SharedPoolsDriver<Pool<SqlConnection>> {
  async acquireConnection(): Promise<DatabaseConnection> {
    const signal = currentQuerySignal()
    const lease = await this.pools.acquire(signal ? { signal } : undefined)
    return new LeasedConnection(lease, this.reporting)
  }
}
