import type { CacheStats } from '@hotpath/cache'
import type { BatcherStats, SemaphoreStats } from '@hotpath/concurrency'
import { formatMs, formatPercent, latencyTable, reportTable } from '@hotpath/example-kit'
import { type Advice, report } from '@hotpath/metrics'
import type { LoadResult } from './load'
import type { ProviderScore } from './provider-scores'

type Stats = Record<string, unknown>

/**
 * Formats a load run and the router's `/stats` as a readable report.
 *
 * @example
 * console.log(formatReport(result, await (await fetch(`${url}/stats`)).json(), advice))
 */
export function formatReport(result: LoadResult, stats: Stats, advice: readonly Advice[] = []): string {
  // `/stats` may come over HTTP, hence the casts; the shapes are the packages' own stats types.
  const cache = stats.cache as CacheStats | undefined
  const upstream = (stats.upstream ?? {}) as Record<string, SemaphoreStats>
  const writer = stats.writer as BatcherStats | undefined
  const providers = (stats.providers ?? []) as ProviderScore[]
  const sections = [
    'Load',
    reportTable([
      ['requests', String(result.requests)],
      ['duration', `${(result.durationMs / 1000).toFixed(1)} s`],
      ['throughput', `${result.throughput.toFixed(0)} req/s`],
      [
        'statuses',
        Object.entries(result.statuses)
          .map(([s, n]) => `${s}: ${n}`)
          .join(', '),
      ],
    ]),
    'Latency (client side, HDR histogram)',
    latencyTable(result.latency),
    'Cache',
    reportTable([
      ['hit rate', cache?.hitRate === undefined ? 'n/a' : formatPercent(cache.hitRate)],
      ['L1 hits', String(cache?.l1?.hits ?? 0)],
      ['L1 misses', String(cache?.l1?.misses ?? 0)],
      ['loads', String(cache?.loads ?? 0)],
    ]),
    'Providers (live score)',
    reportTable(
      providers.map((p) => [
        p.name,
        `${p.calls} calls, ewma latency ${formatMs(p.latencyMs)}, success ${formatPercent(p.successRate)}, served ${result.byProvider[p.name] ?? 0}`,
      ]),
    ),
    'Upstream limits (semaphore per provider)',
    reportTable(
      Object.entries(upstream).map(([name, s]) => [
        name,
        `acquired ${s.acquired ?? 0}, in use ${s.inUse ?? 0}, waiting ${s.waiting ?? 0}, wait p99 ${formatMs(s.waitTime.p99)}`,
      ]),
    ),
    'Batched metric writes',
    reportTable([
      ['batches', String(writer?.batches ?? 0)],
      ['rows', String(writer?.keys ?? 0)],
      ['pending', String(writer?.pending ?? 0)],
    ]),
  ]
  sections.push('Advice (@hotpath/metrics)', report(advice).trimEnd())
  return sections.join('\n')
}
