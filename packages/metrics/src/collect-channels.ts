import * as diagnostics from 'node:diagnostics_channel'
import type { CacheChannelMessages } from '@hotpath/cache'
import type { ConcurrencyChannelMessages } from '@hotpath/concurrency'
import type { PollerChannelMessages } from '@hotpath/poller'
import type { PoolChannelMessages } from '@hotpath/pool'
import type { Registry } from './registry'

// Type-only imports: the channel names below are checked against what each package declares it
// publishes, so a renamed channel or message field fails the type check here, while the build
// keeps no import of those packages (they are not dependencies of @hotpath/metrics).

/** Every channel a hotpath package publishes on, with its message type. */
export type ChannelMessages = CacheChannelMessages &
  ConcurrencyChannelMessages &
  PollerChannelMessages &
  PoolChannelMessages

/** A channel name some hotpath package publishes on. */
export type ChannelName = keyof ChannelMessages & string

type Handler<N extends ChannelName> = (message: Partial<ChannelMessages[N]>) => void

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined)
const str = (v: unknown) => (typeof v === 'string' ? v : 'unknown')
const ms = (v: unknown) => num(v) ?? 0

/**
 * Subscribes the collector's histograms and counters to the `hotpath:*` channels; returns the
 * unsubscribers.
 */
export function subscribeChannels(registry: Registry): Array<() => void> {
  const unsubscribers: Array<() => void> = []
  const listen = (channel: string, handler: (message: never) => void) => {
    const listener = (message: unknown) => {
      try {
        // Messages come from whoever publishes on the name; fields are read defensively below.
        handler(message as never)
      } catch {
        // A malformed message must not throw into the publisher.
      }
    }
    diagnostics.subscribe(channel, listener)
    unsubscribers.push(() => diagnostics.unsubscribe(channel, listener))
  }
  const on = <N extends ChannelName>(channel: N, handler: Handler<N>) => listen(channel, handler)
  const onTrace = <N extends ChannelName>(channel: N, event: 'start' | 'asyncEnd', handler: Handler<N>) =>
    listen(`tracing:${channel}:${event}`, handler)
  const histogram = (name: string, help: string, labels: readonly string[] = ['name']) =>
    registry.histogram(name, { unit: 'ms', labels, help })
  const count = (name: string, help: string, labels: readonly string[] = ['name']) =>
    registry.counter(name, { help, labels })

  const poolWait = histogram('hotpath_pool_acquire_wait', 'Pool acquire wait (from hotpath:pool:acquire).')
  on('hotpath:pool:acquire', (m) => poolWait.with({ name: str(m.pool) }).record(ms(m.waitMs)))
  const poolCreate = histogram('hotpath_pool_create_duration', 'Resource creation time.')
  on('hotpath:pool:create', (m) => poolCreate.with({ name: str(m.pool) }).record(ms(m.durationMs)))
  const slowQueries = histogram('hotpath_pool_slow_query_duration', 'Queries over the slow-query threshold.')
  on('hotpath:pool:slow-query', (m) => slowQueries.with({ name: str(m.pool) }).record(ms(m.durationMs)))
  const destroyed = count('hotpath_pool_destroyed', 'Resources destroyed, by reason.', ['name', 'reason'])
  on('hotpath:pool:destroy', (m) => destroyed.with({ name: str(m.pool), reason: str(m.reason) }).inc())
  const semWait = histogram('hotpath_semaphore_wait', 'Permit wait (from hotpath:concurrency:acquire).')
  on('hotpath:concurrency:acquire', (m) => semWait.with({ name: str(m.name) }).record(ms(m.waitMs)))
  const rejects = count('hotpath_semaphore_rejects', 'Waiters refused, by reason.', ['name', 'reason'])
  on('hotpath:concurrency:reject', (m) => rejects.with({ name: str(m.name), reason: str(m.reason) }).inc())
  const lockWait = histogram('hotpath_lock_wait', 'Lock wait time, by lock kind.', ['name', 'kind'])
  on('hotpath:concurrency:lock-wait', (m) =>
    lockWait.with({ name: str(m.name), kind: str(m.kind) }).record(ms(m.waitMs)),
  )
  const limited = count('hotpath_rate_limited', 'Consumes denied (from hotpath:concurrency:rate-limited).')
  on('hotpath:concurrency:rate-limited', (m) => limited.with({ name: str(m.name) }).inc())
  const stale = count('hotpath_cache_stale', 'Stale values served, by reason.', ['name', 'reason'])
  on('hotpath:cache:stale', (m) => stale.with({ name: str(m.cache), reason: str(m.reason) }).inc())
  const busLag = histogram('hotpath_cache_bus_lag', 'Invalidation bus delivery lag.')
  on('hotpath:cache:bus', (m) => busLag.with({ name: str(m.cache) }).record(ms(m.lag)))
  const settled = count('hotpath_poller_settled', 'Polls settled, by outcome.', ['name', 'outcome'])
  const pollDuration = histogram('hotpath_poller_duration', 'Time from start to settle of a poll.')
  on('hotpath:poller:settle', (m) => {
    settled.with({ name: str(m.name), outcome: str(m.outcome) }).inc()
    pollDuration.with({ name: str(m.name) }).record(ms(m.durationMs))
  })
  const jobs = histogram('hotpath_job_duration', 'Background job run time (from hotpath:poller:job).')
  on('hotpath:poller:job', (m) => jobs.with({ name: str(m.name) }).record(ms(m.durationMs)))

  // Cache loads are traced on a tracing channel: time start → asyncEnd of the same context object.
  const loads = histogram('hotpath_cache_load_duration', 'Cache loader time.')
  const loadStarts = new WeakMap<object, number>()
  onTrace('hotpath:cache:load', 'start', (m) => loadStarts.set(m, performance.now()))
  onTrace('hotpath:cache:load', 'asyncEnd', (m) => {
    const started = loadStarts.get(m)
    if (started !== undefined) loads.with({ name: str(m.cache) }).record(performance.now() - started)
  })
  return unsubscribers
}
