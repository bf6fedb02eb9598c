import * as diagnostics from 'node:diagnostics_channel'
import { checkFunction, invalidOption } from './options'

const NAME = /^hotpath:[a-z][a-z0-9-]*:[a-z][a-z0-9-]*$/

function checkName(name: string): string {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw invalidOption('name', "a channel name like 'hotpath:<package>:<event>'", name)
  }
  return name
}

/**
 * A typed `node:diagnostics_channel` channel that builds and publishes a message only when
 * someone subscribes: on a hot path, `if (channel.active) channel.publish({ ... })` costs one
 * property read with no subscriber. (`publishLazy` skips building too, but a callback that
 * captures variables is itself allocated on every call.) Call the methods on the channel object:
 * they are class methods, not bound functions.
 *
 * @example
 * const acquired: EventChannel<{ waitMs: number }> = eventChannel('hotpath:concurrency:acquire')
 * const off = acquired.subscribe((message) => console.log(message.waitMs))
 */
export interface EventChannel<T> {
  /** The channel name, `hotpath:<package>:<event>`. */
  readonly name: string
  /** True when at least one subscriber listens. */
  readonly active: boolean
  /** Publishes `message` if anyone listens. */
  publish(message: T): void
  /** Publishes the message built by `build()` if anyone listens; `build` is not called otherwise. */
  publishLazy(build: () => T): void
  /** Subscribes; returns a function that unsubscribes. */
  subscribe(listener: (message: T) => void): () => void
}

/**
 * Creates (or returns the process-wide) channel `hotpath:<package>:<event>`.
 *
 * @example
 * const acquired = eventChannel<{ waitMs: number }>('hotpath:concurrency:acquire')
 * if (acquired.active) acquired.publish({ waitMs: performance.now() - started })
 */
export function eventChannel<T>(name: string): EventChannel<T> {
  return new NodeEventChannel<T>(checkName(name))
}

// A class, not an object literal: a prototype getter reads in ~1 ns, a literal's closure getter
// in ~16 ns, and `active` is read on hot paths.
class NodeEventChannel<T> implements EventChannel<T> {
  readonly #channel: diagnostics.Channel

  constructor(readonly name: string) {
    this.#channel = diagnostics.channel(name)
  }

  get active(): boolean {
    return this.#channel.hasSubscribers
  }

  publish(message: T): void {
    if (this.#channel.hasSubscribers) this.#channel.publish(message)
  }

  publishLazy(build: () => T): void {
    if (typeof build !== 'function') checkFunction('build', build)
    if (this.#channel.hasSubscribers) this.#channel.publish(build())
  }

  subscribe(listener: (message: T) => void): () => void {
    checkFunction('listener', listener)
    const handler = listener as (message: unknown, name: string | symbol) => void
    const name = this.name
    diagnostics.subscribe(name, handler)
    return () => {
      diagnostics.unsubscribe(name, handler)
    }
  }
}

/**
 * A `tracingChannel('hotpath:<package>:<op>')` wrapper whose `trace` runs the function directly,
 * without building a context object, when nobody subscribes.
 *
 * @example
 * const loads: AsyncTracer<{ key: string }> = asyncTracer('hotpath:cache:load')
 * const user = await loads.trace(() => db.users.find(id), () => ({ key: `user:${id}` }))
 */
export interface AsyncTracer<C extends object> {
  /** The tracing channel name. */
  readonly name: string
  /** True when any of the tracing channels has a subscriber. */
  readonly active: boolean
  /** Runs `fn`, publishing start/end/asyncStart/asyncEnd/error with `context()` if anyone listens. */
  trace<R>(fn: () => Promise<R>, context: () => C): Promise<R>
  /** The underlying `TracingChannel`, for subscribing. */
  readonly channel: diagnostics.TracingChannel<C, C>
}

/**
 * Creates a tracing channel for an async operation.
 *
 * @example
 * const loads = asyncTracer<{ key: string }>('hotpath:cache:load')
 * const value = await loads.trace(() => loader(key), () => ({ key }))
 */
export function asyncTracer<C extends object>(name: string): AsyncTracer<C> {
  return new NodeAsyncTracer<C>(checkName(name))
}

class NodeAsyncTracer<C extends object> implements AsyncTracer<C> {
  readonly channel: diagnostics.TracingChannel<C, C>

  constructor(readonly name: string) {
    this.channel = diagnostics.tracingChannel<C, C>(name)
  }

  get active(): boolean {
    return this.channel.hasSubscribers
  }

  trace<R>(fn: () => Promise<R>, context: () => C): Promise<R> {
    if (typeof fn !== 'function') checkFunction('fn', fn)
    if (typeof context !== 'function') checkFunction('context', context)
    if (!this.active) return fn()
    return this.channel.tracePromise(fn, context())
  }
}
