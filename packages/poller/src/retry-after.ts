import { type Duration, getClock, invalidOption, parseDuration } from '@hotpath/core'

const DELTA_SECONDS = /^\d+$/
// The three date forms HTTP allows (IMF-fixdate, obsolete RFC 850 and asctime), loosely: the
// parse itself is Date.parse's; this only keeps a free-form string from being read as a date.
const HTTP_DATE = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,? /

const EXPECTED = "a duration, or a Retry-After header value (delta-seconds like '120' or an HTTP-date)"

/**
 * Milliseconds of a `retryAfter()` hint. Besides durations (`250`, `'5s'`), takes a `Retry-After`
 * header exactly as received: delta-seconds (`'120'`) or an HTTP-date (the delay until then, 0 if
 * it has passed). `null` and `undefined` — the header was absent — give `undefined`: no hint.
 *
 * @example
 * retryAfterMs(res.headers.get('retry-after')) // '2' -> 2000; 'Wed, 21 Oct 2026 07:28:00 GMT' -> ms until then
 */
export function retryAfterMs(value: Duration | string | null | undefined): number | undefined {
  if (value === null || value === undefined) return undefined
  if (typeof value === 'string') {
    const text = value.trim()
    if (DELTA_SECONDS.test(text)) return Number(text) * 1_000
    if (HTTP_DATE.test(text)) {
      const at = Date.parse(text)
      if (Number.isNaN(at)) throw invalidOption('retryAfter', EXPECTED, value)
      return Math.max(0, at - getClock().now())
    }
  }
  try {
    return parseDuration(value, 'retryAfter')
  } catch {
    throw invalidOption('retryAfter', EXPECTED, value)
  }
}
