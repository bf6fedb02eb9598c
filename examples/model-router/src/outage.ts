import type { FakeProvider } from './fake-provider'
import type { ResponseRecord } from './load'

/** When a provider was down (epoch ms; `endedAt` undefined while it still is). */
export interface OutageWindow {
  readonly provider: string
  startedAt: number | undefined
  endedAt: number | undefined
}

/** A scheduled outage of one fake provider. */
export interface ScheduledOutage {
  readonly window: OutageWindow
  /** Ends the outage now if it is under way, and cancels it if it has not started. */
  end(): void
}

/**
 * Wall-clock time of day (UTC) with milliseconds, as the demo prints it.
 *
 * @example
 * clockTime(Date.now()) // '10:12:41.503'
 */
export const clockTime = (at: number): string => new Date(at).toISOString().slice(11, 23)

/**
 * Takes `provider` down after `startAfterMs` for `durationMs` and announces both transitions
 * through `log`.
 *
 * @example
 * const outage = scheduleOutage(running.providers.get('alpha')!, { startAfterMs: 10_000, durationMs: 3_000, log: console.log })
 * // ... later
 * outage.end()
 */
export function scheduleOutage(
  provider: FakeProvider,
  options: { startAfterMs: number; durationMs: number; log: (line: string) => void },
): ScheduledOutage {
  const window: OutageWindow = { provider: provider.name, startedAt: undefined, endedAt: undefined }
  let stopTimer: NodeJS.Timeout | undefined
  const end = () => {
    clearTimeout(startTimer)
    clearTimeout(stopTimer)
    if (window.startedAt === undefined || window.endedAt !== undefined) return
    provider.behaviour.down = false
    window.endedAt = Date.now()
    options.log(
      `${clockTime(window.endedAt)}  outage over: ${provider.name} answers again (down ${((window.endedAt - window.startedAt) / 1000).toFixed(1)} s)`,
    )
  }
  const startTimer = setTimeout(() => {
    provider.behaviour.down = true
    window.startedAt = Date.now()
    options.log(
      `${clockTime(window.startedAt)}  outage: ${provider.name} is down (answers 503) for ${(options.durationMs / 1000).toFixed(1)} s`,
    )
    stopTimer = setTimeout(end, options.durationMs)
  }, options.startAfterMs)
  return { window, end }
}

/** How the failed completions of a run fall inside and outside an outage. */
export interface OutageAttribution {
  failed: number
  /** Failures of requests in flight at some point of the outage. */
  during: number
  outside: number
}

/**
 * Splits the failed completions (5xx) of a run by whether the request was in flight during the
 * outage: only those could have been refused by the provider that was down.
 *
 * @example
 * const { during, outside } = attributeFailures(result.responses, outage.window)
 */
export function attributeFailures(
  responses: readonly ResponseRecord[],
  window: OutageWindow,
): OutageAttribution {
  let during = 0
  let outside = 0
  const from = window.startedAt ?? Number.POSITIVE_INFINITY
  const to = window.endedAt ?? Number.POSITIVE_INFINITY
  for (const r of responses) {
    if (!r.completion || !r.status.startsWith('5')) continue
    if (r.startedAt <= to && r.endedAt >= from) during++
    else outside++
  }
  return { failed: during + outside, during, outside }
}

/**
 * The outage section of the demo's report.
 *
 * @example
 * console.log(formatOutage(outage.window, attributeFailures(result.responses, outage.window)))
 */
export function formatOutage(window: OutageWindow, failures: OutageAttribution): string {
  const lines = ['Outage']
  if (window.startedAt === undefined) {
    lines.push(`  ${window.provider} was not taken down (the run ended first)`)
  } else {
    const to = window.endedAt ?? window.startedAt
    lines.push(
      `  ${window.provider} down from ${clockTime(window.startedAt)} to ${clockTime(to)} (${((to - window.startedAt) / 1000).toFixed(1)} s)`,
    )
  }
  if (failures.failed === 0) lines.push('  failed completions (5xx): none')
  else {
    const during =
      failures.outside === 0
        ? `all ${failures.during} in flight during the outage`
        : `${failures.during} in flight during the outage, ${failures.outside} outside it (random provider errors or timeouts)`
    lines.push(`  failed completions (5xx): ${during}`)
  }
  return lines.join('\n')
}
