// The pieces of a poll's state shared by PollRun and its helpers: what it produces, where it
// sends it, the extras it creates on first use, and the info hooks see.
import { getTimerService, type Timeout } from '@hotpath/core'
import { rejectThrough } from '@hotpath/core/internal'
import type { LimiterTicket } from './limiter'
import type { PollContext, PollInfo } from './options'
import type { ResolvedPollOptions } from './rules'

/**
 * One update of a poll: the state a check returned, with its progress.
 *
 * @example
 * for await (const { state, progress, done } of watch(check, options)) render(progress, done)
 */
export interface PollUpdate<T> {
  /** The state the check returned. */
  state: T
  /** `progress(state)` (the state itself without a `progress` option). */
  progress: unknown
  /** The check's number, from 1. */
  attempt: number
  /** Consecutive checks without progress. */
  stalled: number
  /** Milliseconds since polling started. */
  elapsed: number
  /** True on the final update (`isDone` accepted the state). */
  done: boolean
}

/** Receives what a {@link PollRun} produces. */
export interface PollSink<T> {
  /** A non-final state; return false to pause until `resume()`. */
  update?(update: PollUpdate<T>): boolean
  /** The end: an error, or the final update. */
  settle(error: Error | undefined, final: PollUpdate<T> | undefined): void
}

/** A check as `poll()` and `watch()` take it. */
export type Check<T> = (context: PollContext) => T | PromiseLike<T>

/**
 * Progress and stall tracking, hints, retries, a limiter, a signal, a deadline, asynchronous
 * checks: created on first use, so a plain poll (a synchronous check at a fixed interval) creates
 * it only when it ends, and each of its checks reads only the few fields kept on the run.
 */
export class PollExtras<T> {
  /** The `retryAfter()` hint of the running check, in ms; 0 for none. */
  hint = 0
  /** Consecutive checks that threw. */
  failures = 0
  /** The poll's place in its limiter's queue. */
  ticket: LimiterTicket | undefined = undefined
  hasState = false
  stalled = 0
  progress: unknown = undefined
  deadlineEntry: Timeout | undefined = undefined
  controller: AbortController | undefined = undefined
  /** Why the poll ended early, for a check that asks for its signal afterwards. */
  endReason: unknown = undefined
  /** The poll ended during a check that still holds a limiter slot. */
  abandoned = false
  onValue: ((value: T) => void) | undefined = undefined
  onError: ((error: unknown) => void) | undefined = undefined
  onAbort: (() => void) | undefined = undefined
  /** When the next check is due (service time), kept while a `watch()` stream pauses. */
  nextAt = 0

  /** Records why the poll ended early and aborts the checks' signal with that reason. */
  endEarly(reason: unknown): void {
    this.endReason = reason
    const controller = this.controller
    if (controller !== undefined && !controller.signal.aborted) controller.abort(reason)
  }
}

/** Whether a poll compares progress check by check, which it does only when something reads it. */
export function tracksProgress<T>(
  o: ResolvedPollOptions<T>,
  sink: PollSink<T> | ((value: T) => void),
): boolean {
  // A hook, a stall rule, a progress-based interval or a `watch()` stream (the progress channel
  // is checked per round).
  return (
    (typeof sink !== 'function' && sink.update !== undefined) ||
    o.onProgress !== undefined ||
    o.stall !== undefined ||
    o.delays?.phases !== undefined ||
    o.delays?.intervalFn !== undefined
  )
}

/** What hooks and `watch()` see of a poll after a check (an update when `done` is given). */
export function pollInfo<T>(
  state: T,
  x: PollExtras<T> | undefined,
  attempt: number,
  startedAt: number,
): PollInfo<T>
export function pollInfo<T>(
  state: T,
  x: PollExtras<T> | undefined,
  attempt: number,
  startedAt: number,
  done: boolean,
): PollUpdate<T>
export function pollInfo<T>(
  state: T,
  x: PollExtras<T> | undefined,
  attempt: number,
  startedAt: number,
  done?: boolean,
): PollInfo<T> | PollUpdate<T> {
  const info: PollInfo<T> = {
    state,
    progress: x?.progress,
    attempt,
    stalled: x?.stalled ?? 0,
    elapsed: getTimerService().now() - startedAt,
  }
  if (done !== undefined) (info as PollUpdate<T>).done = done
  return info
}

// The phases of a PollRun.
export const WAITING = 0
export const QUEUED = 1
/** A check is running synchronously (its call has not returned yet). */
export const CHECKING = 2
export const PAUSED = 3
export const FINISHED = 4
/** Between a check's end (or its start) and the next step: nothing to cancel. */
export const HANDLING = 5
/** A check returned a promise that has not settled yet (counted in `pollerStats().checking`). */
export const AWAITING = 6

/** `error` as an Error (a check may throw anything). */
export function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error))
}

/** Hands a finished poll's outcome to its sink: a `watch()` stream, or `poll()`'s promise. */
export function deliver<T>(
  sink: PollSink<T> | ((value: T) => void),
  error: Error | undefined,
  final: PollUpdate<T> | undefined,
): void {
  if (typeof sink !== 'function') sink.settle(error, final)
  else if (error !== undefined) rejectThrough(sink, error)
  else sink(final!.state)
}
