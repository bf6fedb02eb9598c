import type { CacheStats } from '@hotpath/cache'
import type { BatcherStats, MutexStats } from '@hotpath/concurrency'
import { formatMs, formatPercent, latencyTable, reportSections, reportTable } from '@hotpath/example-kit'
import { type Advice, report } from '@hotpath/metrics'
import type { PollerStats } from '@hotpath/poller'
import type { PoolStats } from '@hotpath/pool'
import type { LoadResult } from './load'

/**
 * Formats a load run and the manager's `/stats` as a readable report.
 *
 * @example
 * console.log(formatReport(result, stats, advice))
 */
export function formatReport(
  result: LoadResult,
  stats: Record<string, unknown>,
  advice: readonly Advice[] = [],
): string {
  // `/stats` may come over HTTP, hence the casts; the shapes are the packages' own stats types.
  const cache = stats.cache as CacheStats | undefined
  const database = (stats.database ?? {}) as { writer?: PoolStats; readers?: PoolStats }
  const lock = stats.tokenLock as MutexStats | undefined
  const videos = stats.videos as { active: number; completed: number; failed: number }
  const pollers = stats.pollers as PollerStats | undefined
  const usage = stats.usageWrites as BatcherStats | undefined
  const pool = (name: string, p: PoolStats | undefined): [string, string] => [
    name,
    p
      ? `size ${p.size ?? 0}, borrowed ${p.borrowed ?? 0}, waiting ${p.pending ?? 0}, acquired ${p.acquired ?? 0}`
      : 'n/a',
  ]
  return reportSections([
    [
      'Load',
      reportTable([
        ['requests', String(result.requests)],
        ['throughput', `${result.throughput.toFixed(0)} req/s`],
        ['jobs submitted', String(result.jobsSubmitted)],
        [
          'statuses',
          Object.entries(result.statuses)
            .map(([s, n]) => `${s}: ${n}`)
            .join(', '),
        ],
      ]),
    ],
    ['Latency (client side, HDR histogram)', latencyTable(result.latency)],
    [
      'Token cache (30 s, updated on writes)',
      reportTable([
        ['hit rate', cache?.hitRate === undefined ? 'n/a' : formatPercent(cache.hitRate)],
        ['loads', String(cache?.loads ?? 0)],
      ]),
    ],
    [
      'SQLite read/write split',
      reportTable([pool('writer', database.writer), pool('readers', database.readers)]),
    ],
    [
      'Video jobs (adaptive polling)',
      reportTable([
        ['completed', String(videos.completed)],
        ['still polling', String(videos.active)],
        ['failed', String(videos.failed)],
        ['status checks', String(pollers?.checks ?? 'n/a')],
      ]),
    ],
    [
      'Writes and locks',
      reportTable([
        ['usage rows (batched)', `${usage?.keys ?? 0} in ${usage?.batches ?? 0} batches`],
        ['token_lock', `${lock?.acquired ?? 0} acquisitions, wait p99 ${formatMs(lock?.waitTime.p99 ?? 0)}`],
        ['batch token test', JSON.stringify(result.testReport ?? null)],
      ]),
    ],
    ['Advice (@hotpath/metrics)', report(advice).trimEnd()],
  ])
}
