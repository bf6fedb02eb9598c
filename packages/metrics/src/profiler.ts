import type { Session } from 'node:inspector'
import {
  checkInteger,
  checkKnownOptions,
  checkOptionsObject,
  checkSignal,
  checkString,
  type Duration,
  parseDuration,
  sleep,
} from '@hotpath/core'
import { LowMemoryError, ProfilerBusyError } from './errors'

/**
 * A V8 CPU profile in the `.cpuprofile` format Chrome DevTools opens.
 *
 * @example
 * const profile: CpuProfile = await cpuProfile({ duration: '5s' })
 * await writeFile('api.cpuprofile', JSON.stringify(profile))
 */
export interface CpuProfile {
  nodes: Array<{ id: number; callFrame: Record<string, unknown>; hitCount?: number; children?: number[] }>
  startTime: number
  endTime: number
  samples: number[]
  timeDeltas: number[]
}

/**
 * A V8 sampling heap profile in the `.heapprofile` format Chrome DevTools opens.
 *
 * @example
 * const { samples } = await heapProfile({ duration: '10s' })
 */
export interface HeapProfile {
  head: { callFrame: Record<string, unknown>; selfSize: number; id: number; children: unknown[] }
  samples: Array<{ size: number; nodeId: number; ordinal: number }>
}

/**
 * Options of {@link cpuProfile}.
 *
 * @example
 * await cpuProfile({ duration: '30s', samplingInterval: 100, signal: AbortSignal.timeout(60_000) })
 */
export interface CpuProfileOptions {
  /** How long to profile. @default '10s' */
  duration?: Duration
  /** Writes the profile there as JSON (use a `.cpuprofile` extension). @default undefined (not written) */
  path?: string
  /** Sampling interval in microseconds. @default 1000 */
  samplingInterval?: number
  /** Stops early; the profile gathered so far is returned. @default undefined */
  signal?: AbortSignal
}

/**
 * Options of {@link heapProfile}.
 *
 * @example
 * await heapProfile({ duration: '1m', samplingInterval: 65_536, path: './api.heapprofile' })
 */
export interface HeapProfileOptions {
  /** How long to sample allocations. @default '10s' */
  duration?: Duration
  /** Writes the profile there as JSON (use a `.heapprofile` extension). @default undefined */
  path?: string
  /** Average bytes between samples. @default 32768 */
  samplingInterval?: number
  /** Stops early; the profile gathered so far is returned. @default undefined */
  signal?: AbortSignal
}

const busy = new Set<string>()

const PROFILE_OPTIONS = ['duration', 'path', 'samplingInterval', 'signal']

// Builtins loaded on first use, so that importing the package stays cheap.
const builtin = <ID extends 'node:fs/promises' | 'node:os' | 'node:v8' | 'node:inspector'>(id: ID) =>
  process.getBuiltinModule(id)

async function openSession(): Promise<Session> {
  const inspector = builtin('node:inspector')
  const session = new inspector.Session()
  session.connect()
  return session
}

function post<T = unknown>(session: Session, method: string, params?: object): Promise<T> {
  return new Promise((resolve, reject) => {
    session.post(method, params ?? {}, (err: Error | null, result: unknown) => {
      if (err) reject(err)
      else resolve(result as T)
    })
  })
}

async function run<T>(kind: string, work: (session: Session) => Promise<T>): Promise<T> {
  if (busy.has(kind)) throw new ProfilerBusyError(kind)
  busy.add(kind)
  const session = await openSession()
  try {
    return await work(session)
  } finally {
    session.disconnect()
    busy.delete(kind)
  }
}

async function wait(ms: number, signal: AbortSignal | undefined): Promise<void> {
  try {
    await sleep(ms, { signal })
  } catch (error) {
    if (!signal?.aborted) throw error
  }
}

function positiveInteger(name: string, value: unknown, fallback: number): number {
  return value === undefined ? fallback : checkInteger(name, value, { min: 1 })
}

/**
 * Records a CPU profile of this process through `node:inspector` for `duration`. Opens in
 * Chrome DevTools (Performance tab) or speedscope when written to a `.cpuprofile` file. One CPU
 * profile at a time per process. Bad options throw at once; the returned promise rejects only for
 * what happens while profiling.
 *
 * @example
 * const profile = await cpuProfile({ duration: '10s', path: './api.cpuprofile' })
 * profile.samples.length
 */
export function cpuProfile(options: CpuProfileOptions = {}): Promise<CpuProfile> {
  const raw = checkOptionsObject('options', options)
  checkKnownOptions('cpuProfile()', raw, PROFILE_OPTIONS)
  const duration = parseDuration(raw.duration ?? '10s', 'duration')
  const path = raw.path === undefined ? undefined : checkString('path', raw.path)
  const interval = positiveInteger('samplingInterval', raw.samplingInterval, 1000)
  const signal = checkSignal('signal', raw.signal)
  return record('CPU profile', path, async (session) => {
    await post(session, 'Profiler.enable')
    await post(session, 'Profiler.setSamplingInterval', { interval })
    await post(session, 'Profiler.start')
    // If the wait throws, disconnecting the session (in run) stops the profiler.
    await wait(duration, signal)
    const result = await post<{ profile: CpuProfile }>(session, 'Profiler.stop')
    await post(session, 'Profiler.disable')
    return result.profile
  })
}

/**
 * Samples heap allocations through `node:inspector` for `duration`: which functions allocate how
 * much, at a cost low enough for production (unlike a heap snapshot).
 *
 * @example
 * const profile = await heapProfile({ duration: '30s', path: './api.heapprofile' })
 */
export function heapProfile(options: HeapProfileOptions = {}): Promise<HeapProfile> {
  const raw = checkOptionsObject('options', options)
  checkKnownOptions('heapProfile()', raw, PROFILE_OPTIONS)
  const duration = parseDuration(raw.duration ?? '10s', 'duration')
  const path = raw.path === undefined ? undefined : checkString('path', raw.path)
  const samplingInterval = positiveInteger('samplingInterval', raw.samplingInterval, 32768)
  const signal = checkSignal('signal', raw.signal)
  return record('heap profile', path, async (session) => {
    await post(session, 'HeapProfiler.enable')
    await post(session, 'HeapProfiler.startSampling', { samplingInterval })
    await wait(duration, signal)
    const result = await post<{ profile: HeapProfile }>(session, 'HeapProfiler.stopSampling')
    await post(session, 'HeapProfiler.disable')
    return result.profile
  })
}

/** Runs a profiling session (options already checked) and writes its result to `path` if given. */
async function record<P>(
  what: string,
  path: string | undefined,
  body: (session: Session) => Promise<P>,
): Promise<P> {
  const profile = await run(what, body)
  if (path !== undefined) await builtin('node:fs/promises').writeFile(path, JSON.stringify(profile))
  return profile
}

/**
 * Writes a full heap snapshot (`.heapsnapshot`) — only on request, and refused with
 * {@link LowMemoryError} when free system memory is below twice the heap in use (V8 needs about
 * as much memory again to serialise it, and the process pauses meanwhile).
 *
 * @example
 * const file = await heapSnapshot({ path: `/tmp/api-${Date.now()}.heapsnapshot` })
 */
export function heapSnapshot(options: { path?: string } = {}): Promise<string> {
  const raw = checkOptionsObject('options', options)
  checkKnownOptions('heapSnapshot()', raw, ['path'])
  return writeSnapshot(raw.path === undefined ? undefined : checkString('path', raw.path))
}

async function writeSnapshot(path: string | undefined): Promise<string> {
  const free = builtin('node:os').freemem()
  const heapUsed = process.memoryUsage().heapUsed
  if (free < 2 * heapUsed) throw new LowMemoryError(free, heapUsed)
  if (busy.has('heap snapshot')) throw new ProfilerBusyError('heap snapshot')
  busy.add('heap snapshot')
  try {
    return builtin('node:v8').writeHeapSnapshot(path)
  } finally {
    busy.delete('heap snapshot')
  }
}
