/** The outcome of comparing stored metric rows with the completions a run counted. */
export interface StoredCheck {
  ok: boolean
  /** Rows short of the completions (0 when none is missing). */
  missing: number
  /** One line for the report. */
  message: string
}

/**
 * Completions the router writes a metric row for, from a load run's completion statuses: every
 * answer but 400, 404 and 429, which are refused before any provider is called.
 *
 * @example
 * countCompletions({ '200': 90, '502': 3, '429': 7 }) // 93
 */
export function countCompletions(statuses: Readonly<Record<string, number>>): number {
  let total = 0
  for (const [status, n] of Object.entries(statuses))
    if (status === '200' || status.startsWith('5')) total += n
  return total
}

/**
 * Compares the rows written to the database with the completions counted by the client. Requests
 * that got no answer at all (`unanswered`) may or may not have been written, so up to that many
 * extra rows still pass.
 *
 * @example
 * checkStoredMetrics(1200, 1200).message // '1200 completions, 1200 rows: none lost'
 * checkStoredMetrics(1200, 1150).message // '1200 completions, 1150 rows: 50 missing'
 */
export function checkStoredMetrics(completions: number, rows: number, unanswered = 0): StoredCheck {
  const counted = `${completions} completions${unanswered > 0 ? ` (and ${unanswered} requests without an answer)` : ''}, ${rows} rows`
  if (rows < completions) {
    const missing = completions - rows
    return { ok: false, missing, message: `${counted}: ${missing} missing` }
  }
  if (rows > completions + unanswered) {
    return {
      ok: false,
      missing: 0,
      message: `${counted}: ${rows - completions - unanswered} more rows than completions`,
    }
  }
  return { ok: true, missing: 0, message: `${counted}: none lost` }
}
