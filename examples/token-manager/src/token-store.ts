import type { Cache } from '@hotpath/cache'
import { Batcher, Mutex } from '@hotpath/concurrency'
import { insertMany, updateMany } from '@hotpath/pool/kysely'
import type { Kysely } from 'kysely'
import { selectActiveTokens, type Token, type TokenDatabase } from './db'

/** A token picked for one call; `release()` when the call is done. */
export interface TokenLease {
  readonly token: Token
  release(): void
}

/** Raised when no active token is left. */
export class NoActiveTokenError extends Error {
  readonly code = 'E_NO_ACTIVE_TOKEN'
  constructor() {
    super('No active token: add one with POST /tokens or re-test the disabled ones.')
  }
}

/**
 * Tokens in SQLite with the active list cached (30 s by default) and updated incrementally on
 * every write, least-loaded selection, and usage written in batches.
 *
 * @example
 * const store = new TokenStore(db, cache.namespace('tokens', { ttl: '30s' }))
 * const lease = await store.pick()
 * try { await callApi(lease.token) } finally { lease.release() }
 */
export class TokenStore {
  readonly #db: Kysely<TokenDatabase>
  readonly #cache: Cache
  readonly #inFlight = new Map<number, number>()
  // `token_lock`: writes and their cache update happen under one lock, with wait stats.
  readonly lock = new Mutex({ name: 'token_lock', warnAfter: '100ms' })
  readonly usage: Batcher<{ tokenId: number; kind: string; at: number }, void>

  constructor(db: Kysely<TokenDatabase>, cache: Cache) {
    this.#db = db
    this.#cache = cache
    this.usage = new Batcher(
      async (batch) => {
        await insertMany(
          db,
          'usage_log',
          batch.map((u) => ({ token_id: u.tokenId, kind: u.kind, at: u.at })),
        )
      },
      { maxBatchSize: 200, maxDelay: '100ms', dedupe: false },
    )
  }

  /** The active tokens, from the cache (loaded from a reader thread on a miss). */
  active(): Promise<Token[]> {
    return this.#cache.getOrSet('active', () => selectActiveTokens(this.#db)) as Promise<Token[]>
  }

  /** Adds a token; the cached list gets it without a reload. */
  async add(name: string, secret: string): Promise<Token> {
    return this.lock.run(async () => {
      const row = await this.#db
        .insertInto('tokens')
        .values({ name, secret, status: 'active', usage_count: 0 })
        .returning('id')
        .executeTakeFirstOrThrow()
      const token: Token = { id: Number(row.id), name, secret, status: 'active', usageCount: 0 }
      await this.#patchCache((list) => [...list, token])
      return token
    })
  }

  /** Applies test results: failed tokens are disabled, passed ones re-enabled (one transaction). */
  async applyTests(results: { id: number; ok: boolean }[]): Promise<void> {
    if (results.length === 0) return
    await this.lock.run(async () => {
      const at = Date.now()
      await updateMany(
        this.#db,
        'tokens',
        results.map((r) => ({
          id: r.id,
          status: r.ok ? 'active' : 'disabled',
          last_tested_at: at,
          last_test_ok: r.ok ? 1 : 0,
        })),
        { key: 'id' },
      )
      const failed = new Set(results.filter((r) => !r.ok).map((r) => r.id))
      const cached = (await this.#cache.get('active')) as Token[] | undefined
      const cachedIds = new Set(cached?.map((t) => t.id))
      // A re-enabled token is not in the cached list: drop the entry so the next read reloads it.
      if (results.some((r) => r.ok && !cachedIds.has(r.id))) await this.#cache.delete('active')
      else await this.#patchCache((list) => list.filter((t) => !failed.has(t.id)))
    })
  }

  /** Records that tokens were refreshed (one transaction). */
  async markRefreshed(ids: number[]): Promise<void> {
    const at = Date.now()
    await updateMany(
      this.#db,
      'tokens',
      ids.map((id) => ({ id, refreshed_at: at })),
      { key: 'id' },
    )
  }

  /**
   * Picks the active token with the fewest calls in flight (then the least used) and holds it
   * until `release()`.
   */
  async pick(): Promise<TokenLease> {
    const tokens = await this.active()
    let best: Token | undefined
    let bestLoad = Number.POSITIVE_INFINITY
    for (const token of tokens) {
      const load = this.#inFlight.get(token.id) ?? 0
      if (load < bestLoad || (load === bestLoad && best && token.usageCount < best.usageCount)) {
        best = token
        bestLoad = load
      }
    }
    if (!best) throw new NoActiveTokenError()
    const token = best
    this.#inFlight.set(token.id, bestLoad + 1)
    token.usageCount++
    void this.usage.add({ tokenId: token.id, kind: 'video', at: Date.now() }).catch(() => {})
    let released = false
    return {
      token,
      release: () => {
        if (released) return
        released = true
        this.#inFlight.set(token.id, (this.#inFlight.get(token.id) ?? 1) - 1)
      },
    }
  }

  /** Calls in flight per token id. */
  load(): Record<number, number> {
    return Object.fromEntries(this.#inFlight)
  }

  /** Flushes batched usage rows. */
  async close(): Promise<void> {
    await this.usage.close()
  }

  async #patchCache(update: (list: Token[]) => Token[]): Promise<void> {
    const current = (await this.#cache.get('active')) as Token[] | undefined
    if (current === undefined) return // not cached: the next read loads the fresh list
    await this.#cache.set('active', update(current))
  }
}
