import { describe, expectTypeOf, it } from 'vitest'
import {
  abortable,
  asyncTracer,
  checkFunction,
  checkOneOf,
  checkOptionsObject,
  type Deadline,
  type Deferred,
  type Duration,
  deadlineSignal,
  deferred,
  describeMetrics,
  type EventChannel,
  eventChannel,
  getTimerService,
  isThenable,
  type MetricsDescriptor,
  metricsSource,
  parseDuration,
  parseOptionalDuration,
  readOptions,
  Summary,
  type SummarySnapshot,
  schedule,
  sleep,
  Timeout,
  type TimerHandle,
  type TimerService,
  type TimerServiceStats,
  withDefaults,
  withTimeout,
} from '../src/index'
import { Deque, IndexedHeap } from '../src/internal'

declare const signal: AbortSignal

describe('abort helpers', () => {
  it('withTimeout and abortable keep the promise type', () => {
    expectTypeOf(withTimeout(Promise.resolve(1), { timeout: '2s' })).toEqualTypeOf<Promise<number>>()
    expectTypeOf(withTimeout(Promise.resolve({ id: 'a' }), { signal })).toEqualTypeOf<
      Promise<{ id: string }>
    >()
    expectTypeOf(abortable(Promise.resolve('x'), signal)).toEqualTypeOf<Promise<string>>()
    // @ts-expect-error `timeout` takes a duration, not an arbitrary string
    void withTimeout(Promise.resolve(1), { timeout: '2 seconds' })
    // @ts-expect-error misspelled option
    void withTimeout(Promise.resolve(1), { timout: 10 })
    // @ts-expect-error `timeoutError` builds an Error
    void withTimeout(Promise.resolve(1), { timeoutError: () => 'slow' })
  })

  it('deadlineSignal and sleep', () => {
    const deadline = deadlineSignal({ timeout: 500, signal })
    expectTypeOf(deadline).toEqualTypeOf<Deadline>()
    expectTypeOf(deadline.signal).toEqualTypeOf<AbortSignal>()
    expectTypeOf(sleep('5ms')).toEqualTypeOf<Promise<void>>()
    expectTypeOf(sleep(5, { signal })).toEqualTypeOf<Promise<void>>()
    // @ts-expect-error durations are numbers or `${number}${unit}` strings
    void sleep('soon')
  })
})

describe('durations', () => {
  it('Duration accepts numbers and unit strings only', () => {
    expectTypeOf<5>().toExtend<Duration>()
    expectTypeOf<'5s'>().toExtend<Duration>()
    expectTypeOf<'1.5m'>().toExtend<Duration>()
    // Whitespace between number and unit is accepted, as the parser accepts it.
    expectTypeOf<'5 s'>().toExtend<Duration>()
    expectTypeOf<'5'>().not.toExtend<Duration>()
    expectTypeOf<'5sec'>().not.toExtend<Duration>()
  })

  it('parseDuration returns milliseconds; parseOptionalDuration may return undefined', () => {
    expectTypeOf(parseDuration('5m')).toEqualTypeOf<number>()
    expectTypeOf(parseDuration(undefined as unknown, 'ttl', { positive: true })).toEqualTypeOf<number>()
    expectTypeOf(parseOptionalDuration(undefined, 'ttl')).toEqualTypeOf<number | undefined>()
    // @ts-expect-error misspelled option
    void parseDuration('5m', 'ttl', { allowInfinite: true })
  })
})

describe('channels and deferreds', () => {
  it('eventChannel is typed by its message', () => {
    const channel = eventChannel<{ key: string }>('hotpath:test')
    expectTypeOf(channel).toEqualTypeOf<EventChannel<{ key: string }>>()
    expectTypeOf(channel.subscribe).parameter(0).parameter(0).toEqualTypeOf<{ key: string }>()
    expectTypeOf(channel.subscribe(() => {})).toEqualTypeOf<() => void>()
    // @ts-expect-error the message has the channel's type
    channel.publish({ key: 1 })
    // @ts-expect-error the lazy builder returns the channel's type
    channel.publishLazy(() => ({ name: 'a' }))
  })

  it('asyncTracer.trace returns the traced promise type', () => {
    const tracer = asyncTracer<{ op: string }>('hotpath:test')
    expectTypeOf(
      tracer.trace(
        async () => 1,
        () => ({ op: 'get' }),
      ),
    ).toEqualTypeOf<Promise<number>>()
    const wrongContext = () => ({ operation: 'get' })
    // @ts-expect-error the context has the tracer's type
    void tracer.trace(async () => 1, wrongContext)
  })

  it('deferred<T>', () => {
    const d = deferred<number>()
    expectTypeOf(d).toEqualTypeOf<Deferred<number>>()
    expectTypeOf(d.promise).toEqualTypeOf<Promise<number>>()
    d.resolve(Promise.resolve(1))
    // @ts-expect-error resolves with the deferred's type
    d.resolve('one')
  })
})

describe('internal structures', () => {
  it('Deque<T>', () => {
    const deque = new Deque<string>()
    expectTypeOf(deque.shift()).toEqualTypeOf<string | undefined>()
    expectTypeOf(deque.pop()).toEqualTypeOf<string | undefined>()
    expectTypeOf(deque.peek()).toEqualTypeOf<string | undefined>()
    expectTypeOf(deque.at(0)).toEqualTypeOf<string | undefined>()
    expectTypeOf(deque.drain()).toEqualTypeOf<string[]>()
    // @ts-expect-error pushes the deque's type
    deque.push(1)
  })

  it('IndexedHeap<T> takes heap items only', () => {
    const heap = new IndexedHeap<{ heapIndex: number; at: number }>((a, b) => a.at < b.at)
    expectTypeOf(heap.peek()).toEqualTypeOf<{ heapIndex: number; at: number } | undefined>()
    // @ts-expect-error an item needs a `heapIndex`
    void new IndexedHeap<{ at: number }>((a, b) => a.at < b.at)
  })
})

describe('timers', () => {
  it('schedule and the timer service', () => {
    const handle = schedule(() => {}, 10)
    expectTypeOf(handle).toEqualTypeOf<TimerHandle>()
    expectTypeOf(handle.unref()).toEqualTypeOf<TimerHandle>()
    const service = getTimerService()
    expectTypeOf(service).toEqualTypeOf<TimerService>()
    expectTypeOf(service.stats()).toEqualTypeOf<TimerServiceStats>()
    expectTypeOf(service.now()).toEqualTypeOf<number>()
    const timeout = new Timeout(() => {}, { name: 'flush' })
    expectTypeOf(timeout.unref()).toEqualTypeOf<Timeout>()
    expectTypeOf(service.remove(timeout)).toEqualTypeOf<boolean>()
    // @ts-expect-error misspelled option
    void new Timeout(() => {}, { nmae: 'flush' })
  })

  it('Summary', () => {
    const summary = new Summary()
    expectTypeOf(summary.quantile(0.99)).toEqualTypeOf<number>()
    expectTypeOf(summary.snapshot()).toEqualTypeOf<SummarySnapshot>()
  })
})

describe('option helpers', () => {
  it('narrow what they check', () => {
    expectTypeOf(checkOneOf('mode', 'x' as unknown, ['settle', 'fail-fast'])).toEqualTypeOf<
      'settle' | 'fail-fast'
    >()
    expectTypeOf(checkFunction<(n: number) => string>('fn', undefined)).toEqualTypeOf<(n: number) => string>()
    type Options = { ttl?: Duration; name?: string }
    expectTypeOf(readOptions<Options>('createX()', {}, ['ttl', 'name'])).toEqualTypeOf<Partial<Options>>()
    expectTypeOf(checkOptionsObject<Options>('options', undefined)).toEqualTypeOf<Partial<Options>>()
    expectTypeOf(withDefaults({ ttl: 1, name: 'a' }, { name: 'b' })).toEqualTypeOf<
      Readonly<{ ttl: number; name: string }>
    >()
    // @ts-expect-error overrides have the defaults' types
    void withDefaults({ ttl: 1 }, { ttl: 'a' })
    const value: unknown = null
    if (isThenable(value)) expectTypeOf(value).toEqualTypeOf<PromiseLike<unknown>>()
  })

  it('metrics descriptors', () => {
    const describe = describeMetrics('cache', () => ({ hits: 1 }))
    expectTypeOf(describe).toEqualTypeOf<() => MetricsDescriptor>()
    expectTypeOf<{ [metricsSource]: typeof describe }>().toExtend<{ [metricsSource](): MetricsDescriptor }>()
    // @ts-expect-error an unknown kind
    void describeMetrics('queues', () => ({}))
  })
})
