import { formatMs, formatPercent, latencyTable, reportSections, reportTable } from '@hotpath/example-kit'
import type { Advice } from '@hotpath/metrics'
import type { ChatStats } from './chat-server'
import type { LoadResult } from './load'

/**
 * Formats a load run and the server's `/stats` as a readable report.
 *
 * @example
 * console.log(formatReport(result, await (await fetch(`${url}/stats?advice`)).json()))
 */
export function formatReport(result: LoadResult, stats: ChatStats, stored?: number): string {
  const { cache, limiter, semaphore, writer } = stats
  const advice: Advice[] = stats.advice ?? []
  const sections: [string, string][] = [
    [
      'Load',
      reportTable([
        ['duration', `${(result.durationMs / 1000).toFixed(1)} s`],
        ['messages sent', String(result.sent)],
        ['throughput', `${result.throughput.toFixed(0)} messages/s broadcast back to their sender`],
        ['fan-out', `${result.deliveryRate.toFixed(0)} deliveries/s (${result.deliveries} to other members)`],
        ['rate-limited', `${result.rateLimited} RATE_LIMITED errors received`],
        ['busy', `${result.busy} BUSY errors received`],
        ['unanswered', String(result.unanswered)],
      ]),
    ],
    ['Round-trip latency (send → own broadcast, HDR histogram)', latencyTable(result.latency)],
    ['Server-side processing (arrival → broadcast)', latencyTable(stats.latency)],
    [
      'Profile cache',
      reportTable([
        ['hit rate', formatPercent(cache.hitRate)],
        ['hits', String(cache.hits)],
        ['misses', String(cache.misses)],
        ['loads', String(cache.loads)],
      ]),
    ],
    [
      'Rate limiter (per user)',
      reportTable([
        ['allowed', String(limiter.allowed)],
        ['denied', String(limiter.denied)],
        ['users tracked', String(limiter.keys)],
      ]),
    ],
    [
      'Processing semaphore',
      reportTable([
        ['permits', String(semaphore.permits)],
        ['acquired', String(semaphore.acquired)],
        ['timed out / rejected', `${semaphore.timedOut} / ${semaphore.rejected}`],
        ['wait p50 / p99', `${formatMs(semaphore.waitTime.p50)} / ${formatMs(semaphore.waitTime.p99)}`],
      ]),
    ],
    [
      'Batched writes',
      reportTable([
        ['batches', String(writer.batches)],
        ['rows', String(writer.keys)],
        ['rows per batch', writer.batches === 0 ? 'n/a' : (writer.keys / writer.batches).toFixed(1)],
        ['pending', String(writer.pending)],
        ['failed batches', String(writer.failedBatches)],
        ...(stored === undefined ? [] : ([['rows in the database', String(stored)]] as [string, string][])),
      ]),
    ],
  ]
  sections.push([
    'Advice (@hotpath/metrics)',
    advice.length === 0
      ? '  - no recommendations: every checked figure is within its threshold'
      : advice.map((a) => `  - [${a.severity}] ${a.message}`).join('\n'),
  ])
  return reportSections(sections)
}
