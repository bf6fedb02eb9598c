import { batchExecute } from '@hotpath/concurrency'
import type { Token } from './db'
import type { TokenStore } from './token-store'

/** Result of testing every token. */
export interface TestReport {
  tested: number
  passed: number
  failed: number
  durationMs: number
}

/**
 * Tests every token against the provider, at most `concurrency` at once (5 in the app, to stay
 * under the provider's rate limit), and disables the ones that fail — one transaction for all.
 *
 * @example
 * const report = await testTokens(store, await store.all(), apiUrl, 5)
 */
export async function testTokens(
  store: TokenStore,
  tokens: Token[],
  apiUrl: string,
  concurrency: number,
): Promise<TestReport> {
  const started = performance.now()
  const results = await batchExecute(
    tokens,
    async (token, { signal }) => {
      const response = await fetch(`${apiUrl}/v1/me`, {
        headers: { authorization: `Bearer ${token.secret}` },
        signal,
      })
      await response.arrayBuffer()
      return response.ok
    },
    { concurrency, mode: 'settle' },
  )
  const outcomes = results.map((r, i) => ({ id: tokens[i]!.id, ok: r.status === 'fulfilled' && r.value }))
  await store.applyTests(outcomes)
  const passed = outcomes.filter((o) => o.ok).length
  return {
    tested: tokens.length,
    passed,
    failed: tokens.length - passed,
    durationMs: performance.now() - started,
  }
}

/**
 * Refreshes every active token at the provider and records it (run by the background job).
 *
 * @example
 * every('5m', () => refreshTokens(store, apiUrl))
 */
export async function refreshTokens(
  store: TokenStore,
  apiUrl: string,
  signal?: AbortSignal,
): Promise<number> {
  const tokens = await store.active()
  const refreshed: number[] = []
  for (const token of tokens) {
    const response = await fetch(`${apiUrl}/v1/refresh`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token.secret}` },
      signal,
    })
    await response.arrayBuffer()
    if (response.ok) refreshed.push(token.id)
  }
  await store.markRefreshed(refreshed)
  return refreshed.length
}
