import diagnostics from 'node:diagnostics_channel'
import { setTimeout as sleep } from 'node:timers/promises'
import { getTimerService } from '@hotpath/core'
import { afterEach, describe, expect, it } from 'vitest'
import {
  ClosedError,
  createWorkerPool,
  QueueFullError,
  WorkerCrashedError,
  type WorkerDoneEvent,
  type WorkerPool,
  type WorkerPoolOptions,
  WorkerTimeoutError,
} from '../src/workers'

const filename = new URL('./fixtures/worker.mjs', import.meta.url)

interface Task {
  op: string
  [key: string]: unknown
}

const pools: WorkerPool<Task, unknown>[] = []
function pool(options: Partial<WorkerPoolOptions> = {}): WorkerPool<Task, unknown> {
  const workers = createWorkerPool<Task, unknown>({ filename, maxThreads: 1, name: 'test', ...options })
  pools.push(workers)
  return workers
}

afterEach(async () => {
  await Promise.all(pools.splice(0).map((workers) => workers.close()))
})

/** Resolves once the pool has a task running (the worker thread may take a while to start). */
async function untilBusy(workers: WorkerPool<Task, unknown>): Promise<void> {
  while (workers.stats().busy === 0) await sleep(5)
}

describe('createWorkerPool', () => {
  it('runs tasks in a worker thread and resolves with their results', async () => {
    const workers = pool({ maxThreads: 2 })
    const results = await Promise.all([
      workers.run({ op: 'sum', n: 100 }),
      workers.run({ op: 'echo', value: { nested: [1, 'two'] } }),
    ])
    expect(results).toEqual([5050, { nested: [1, 'two'] }])
    const stats = workers.stats()
    expect(stats).toMatchObject({ name: 'test', completed: 2, failed: 0, busy: 0, queued: 0 })
    expect(stats.runMs.count).toBe(2)
    expect(stats.threads).toBeGreaterThanOrEqual(1)
    expect(stats.utilization).toBeGreaterThan(0)
  })

  it('moves transferList buffers to the worker instead of copying them', async () => {
    const workers = pool()
    const buffer = new Uint8Array([7, 8, 9]).buffer
    const result = await workers.run({ op: 'bytes', buffer }, { transferList: [buffer] })
    expect(result).toEqual({ length: 3, first: 7 })
    expect(buffer.byteLength).toBe(0) // detached on this side: it was moved
  })

  it('runs queued tasks by priority, FIFO among equals, when the pool is saturated', async () => {
    const workers = pool({ maxThreads: 1 })
    const order: unknown[] = []
    const record = (p: Promise<unknown>) => p.then((label) => order.push(label))
    const blocker = record(workers.run({ op: 'block', ms: 150, label: 'blocker' }))
    await untilBusy(workers)
    const queued = [
      record(workers.run({ op: 'echo', value: 'low' }, { priority: -1 })),
      record(workers.run({ op: 'echo', value: 'normal-1' })),
      record(workers.run({ op: 'echo', value: 'high' }, { priority: 5 })),
      record(workers.run({ op: 'echo', value: 'normal-2' })),
      record(workers.run({ op: 'echo', value: 'highest' }, { priority: 10.5 })),
    ]
    expect(workers.stats().queued).toBe(5)
    await Promise.all([blocker, ...queued])
    expect(order).toEqual(['blocker', 'highest', 'high', 'normal-1', 'normal-2', 'low'])
  })

  it('refuses a task beyond maxQueue with QueueFullError', async () => {
    const workers = pool({ maxThreads: 1, maxQueue: 2 })
    const running = workers.run({ op: 'block', ms: 100, label: 'a' })
    const queued = [workers.run({ op: 'echo', value: 'b' }), workers.run({ op: 'echo', value: 'c' })]
    const refused = workers.run({ op: 'echo', value: 'd' })
    await expect(refused).rejects.toBeInstanceOf(QueueFullError)
    await expect(refused).rejects.toMatchObject({ code: 'E_QUEUE_FULL', maxQueue: 2 })
    expect(await Promise.all([running, ...queued])).toEqual(['a', 'b', 'c'])
    expect(workers.stats().rejected).toBe(1)
  })

  it('an aborted queued task leaves the queue at once and never runs', async () => {
    const workers = pool({ maxThreads: 1 })
    const running = workers.run({ op: 'block', ms: 150, label: 'running' })
    await untilBusy(workers)
    const counter = new SharedArrayBuffer(4)
    const controller = new AbortController()
    const queued = workers.run({ op: 'spin', counter }, { signal: controller.signal })
    expect(workers.stats().queued).toBe(1)
    const reason = new Error('user went away')
    controller.abort(reason)
    expect(workers.stats().queued).toBe(0) // synchronously, before the running task ends
    await expect(queued).rejects.toBe(reason)
    expect(await running).toBe('running')
    await sleep(50)
    expect(Atomics.load(new Int32Array(counter), 0)).toBe(0) // the spin task never started
    expect(workers.stats()).toMatchObject({ cancelled: 1, completed: 1 })
  })

  it('aborting a running task stops its worker thread; the pool keeps working', async () => {
    const workers = pool({ maxThreads: 1 })
    const counter = new SharedArrayBuffer(4)
    const controller = new AbortController()
    const spinning = workers.run({ op: 'spin', counter }, { signal: controller.signal })
    const view = new Int32Array(counter)
    while (Atomics.load(view, 0) === 0) await sleep(5)
    controller.abort()
    await expect(spinning).rejects.toMatchObject({ name: 'AbortError' })
    await sleep(100) // let the termination land
    const afterAbort = Atomics.load(view, 0)
    await sleep(100)
    expect(Atomics.load(view, 0)).toBe(afterAbort) // the worker no longer runs the task
    expect(await workers.run({ op: 'sum', n: 3 })).toBe(6)
    expect(workers.stats()).toMatchObject({ cancelled: 1, completed: 1, busy: 0, crashed: 0 })
  })

  it('timeout rejects with WorkerTimeoutError naming the pool, queued or running', async () => {
    const workers = pool({ maxThreads: 1, name: 'resize' })
    const counter = new SharedArrayBuffer(4)
    const running = workers.run({ op: 'spin', counter }, { timeout: 100 })
    const queued = workers.run({ op: 'echo', value: 'late' }, { timeout: '50ms' })
    const error = await queued.catch((e: unknown) => e)
    expect(error).toBeInstanceOf(WorkerTimeoutError)
    expect(error).toMatchObject({ code: 'E_WORKER_TIMEOUT', pool: 'resize', timeout: 50 })
    expect((error as Error).message).toContain("worker pool 'resize'")
    await expect(running).rejects.toMatchObject({ code: 'E_WORKER_TIMEOUT', pool: 'resize', timeout: 100 })
    await sleep(100)
    const view = new Int32Array(counter)
    const afterTimeout = Atomics.load(view, 0)
    await sleep(100)
    expect(Atomics.load(view, 0)).toBe(afterTimeout)
    expect(workers.stats()).toMatchObject({ timedOut: 2, failed: 0, crashed: 0 })
  })

  it('a task timeout is one ref-d entry of the timer service while the task runs, gone once it settles', async () => {
    const workers = pool()
    const timers = getTimerService()
    const idle = timers.stats().pending
    const echoed = workers.run({ op: 'echo', value: 'in time' }, { timeout: '10s' })
    expect(timers.stats()).toMatchObject({ pending: idle + 1, timerReferenced: true })
    await expect(echoed).resolves.toBe('in time')
    expect(timers.stats().pending).toBe(idle)
    // Above 2^31-1 ms the timeout is still a deadline (no overflow to 1 ms), removed on settle.
    const long = workers.run({ op: 'echo', value: 'long' }, { timeout: '30d' })
    expect(timers.stats().pending).toBe(idle + 1)
    await expect(long).resolves.toBe('long')
    expect(timers.stats().pending).toBe(idle)
    const spun = workers.run({ op: 'spin', counter: new SharedArrayBuffer(4) }, { timeout: 100 })
    await expect(spun).rejects.toBeInstanceOf(WorkerTimeoutError)
    expect(timers.stats().pending).toBe(idle)
  })

  it('an error thrown in the worker arrives with its type, stack and cause', async () => {
    const workers = pool()
    const error = (await workers.run({ op: 'throw', value: 42 }).catch((e: unknown) => e)) as Error
    expect(error).toBeInstanceOf(Error)
    expect(error.name).toBe('RangeError')
    expect(error.message).toBe('bad input 42')
    expect(error.stack).toContain('fixtures/worker.mjs')
    expect(error.cause).toBeInstanceOf(Error)
    expect((error.cause as Error).message).toBe('root cause')
    expect(error).not.toBeInstanceOf(WorkerCrashedError) // the thread is fine: not a crash
    expect(workers.stats()).toMatchObject({ failed: 1, crashed: 0 })
  })

  it('a worker calling process.exit() rejects its task with WorkerCrashedError; the pool recovers', async () => {
    const workers = pool({ maxThreads: 1, name: 'render' })
    const crashing = workers.run({ op: 'exit', code: 3 })
    const queued = workers.run({ op: 'sum', n: 4 }) // waits behind it for the only thread
    const error = (await crashing.catch((e: unknown) => e)) as WorkerCrashedError
    expect(error).toBeInstanceOf(WorkerCrashedError)
    expect(error).toMatchObject({ code: 'E_WORKER_CRASHED', pool: 'render' })
    expect(error.message).toContain("worker pool 'render'")
    expect((error.cause as Error).message).toBe('worker exited with code: 3')
    expect(await queued).toBe(10) // ran on the thread started in place of the dead one
    expect(await workers.run({ op: 'echo', value: 'after' })).toBe('after')
    expect(workers.stats()).toMatchObject({ completed: 2, failed: 1, crashed: 1, busy: 0, queued: 0 })
  })

  it.each([
    ['an uncaught error thrown from a timer', 'crash-later', TypeError, 'crashed after 30 ms'],
    ['an unhandled rejection', 'reject-later', Error, 'unhandled in worker'],
  ])('a worker thread dying of %s fails only its own task', async (_, op, type, message) => {
    const workers = pool({ maxThreads: 2 })
    const other = workers.run({ op: 'wait', ms: 200, label: 'other thread' })
    const crashing = workers.run({ op, ms: 30 })
    const error = (await crashing.catch((e: unknown) => e)) as WorkerCrashedError
    expect(error).toBeInstanceOf(WorkerCrashedError)
    expect(error.code).toBe('E_WORKER_CRASHED')
    expect(error.cause).toBeInstanceOf(type)
    expect((error.cause as Error).message).toBe(message)
    expect(workers.stats()).toMatchObject({ busy: 1, failed: 1, crashed: 1 })
    expect(await other).toBe('other thread') // the task on the other thread is not affected
    expect(await Promise.all([workers.run({ op: 'sum', n: 3 }), workers.run({ op: 'sum', n: 5 })])).toEqual([
      6, 15,
    ])
    expect(workers.stats()).toMatchObject({ completed: 3, failed: 1, crashed: 1, busy: 0 })
    expect(workers.stats().threads).toBeLessThanOrEqual(2)
  })

  it('close() settles every pending promise: running ones finish, queued ones reject', async () => {
    const workers = pool({ maxThreads: 1 })
    const running = workers.run({ op: 'wait', ms: 100, label: 'finished' })
    await untilBusy(workers)
    const queued = workers.run({ op: 'echo', value: 'never' })
    const closing = workers.close()
    await expect(queued).rejects.toBeInstanceOf(ClosedError)
    expect(await running).toBe('finished')
    await closing
    await expect(workers.run({ op: 'echo', value: 1 })).rejects.toMatchObject({ code: 'E_CLOSED' })
    expect(workers.close()).toBe(closing)
    expect(workers.stats()).toMatchObject({ completed: 1, cancelled: 1, rejected: 1, threads: 0 })
  })

  it('close() stops tasks still running after closeTimeout; they reject', async () => {
    const workers = pool({ maxThreads: 1, closeTimeout: 100 })
    const counter = new SharedArrayBuffer(4)
    const spinning = workers.run({ op: 'spin', counter })
    spinning.catch(() => {})
    await untilBusy(workers)
    const started = performance.now()
    await workers.close()
    expect(performance.now() - started).toBeGreaterThanOrEqual(95)
    await expect(spinning).rejects.toBeInstanceOf(Error)
    expect(workers.stats()).toMatchObject({ failed: 1, busy: 0, threads: 0 })
  })

  it('publishes worker-done and worker-reject messages and traces worker-run', async () => {
    const workers = pool({ maxThreads: 1, maxQueue: 0 })
    const done: WorkerDoneEvent[] = []
    const rejects: unknown[] = []
    const traced: string[] = []
    const onDone = (message: unknown) => done.push(message as WorkerDoneEvent)
    const onReject = (message: unknown) => rejects.push(message)
    const tracing = diagnostics.tracingChannel('hotpath:concurrency:worker-run')
    const handlers = {
      start: (ctx: unknown) => traced.push(`start ${(ctx as { name: string }).name}`),
      asyncEnd: () => traced.push('asyncEnd'),
      end: () => {},
      asyncStart: () => {},
      error: () => {},
    }
    diagnostics.subscribe('hotpath:concurrency:worker-done', onDone)
    diagnostics.subscribe('hotpath:concurrency:worker-reject', onReject)
    tracing.subscribe(handlers)
    try {
      const first = workers.run({ op: 'sum', n: 2 })
      await expect(workers.run({ op: 'sum', n: 2 })).rejects.toBeInstanceOf(QueueFullError)
      expect(await first).toBe(3)
      await expect(workers.run({ op: 'sum', n: 2 }, { signal: AbortSignal.abort() })).rejects.toMatchObject({
        name: 'AbortError',
      })
    } finally {
      diagnostics.unsubscribe('hotpath:concurrency:worker-done', onDone)
      diagnostics.unsubscribe('hotpath:concurrency:worker-reject', onReject)
      tracing.unsubscribe(handlers)
    }
    expect(done).toHaveLength(2)
    expect(done[0]).toMatchObject({ name: 'test', outcome: 'completed' })
    expect(done[1]).toEqual({ name: 'test', outcome: 'cancelled', waitMs: 0, runMs: 0 })
    expect(done[0]!.runMs).toBeGreaterThan(0)
    expect(rejects).toEqual([{ name: 'test', reason: 'queue-full' }])
    expect(traced).toEqual(['start test', 'start test', 'asyncEnd', 'asyncEnd', 'start test', 'asyncEnd'])
  })

  it('an already-aborted signal rejects without running the task', async () => {
    const workers = pool()
    const counter = new SharedArrayBuffer(4)
    const reason = new Error('gone')
    await expect(workers.run({ op: 'spin', counter }, { signal: AbortSignal.abort(reason) })).rejects.toBe(
      reason,
    )
    expect(workers.stats()).toMatchObject({ cancelled: 1, busy: 0, threads: 0 })
  })
})
