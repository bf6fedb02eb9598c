/**
 * A promise with its `resolve` and `reject` exposed (`Promise.withResolvers` for Node 20).
 *
 * @example
 * const ready: Deferred<void> = deferred()
 * server.once('listening', () => ready.resolve())
 */
export interface Deferred<T> {
  readonly promise: Promise<T>
  resolve(value: T | PromiseLike<T>): void
  reject(reason?: unknown): void
}

/**
 * Creates a {@link Deferred}.
 *
 * @example
 * const d = deferred<number>()
 * setImmediate(() => d.resolve(42))
 * await d.promise // 42
 */
export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T | PromiseLike<T>) => void
  let reject!: (reason?: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}
