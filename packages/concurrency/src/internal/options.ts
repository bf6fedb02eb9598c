import { checkKnownOptions, checkOptionsObject, invalidOption } from '@hotpath/core'

/**
 * Checks an options object (a plain object or undefined) and its option names, and returns it as a
 * record; `where` names the call in the unknown-option message, e.g. `new Batcher()`.
 */
export function readOptions<T extends object>(
  where: string,
  options: T | undefined,
  known: readonly string[],
  name = 'options',
): Partial<T> {
  const raw = checkOptionsObject(name, options)
  checkKnownOptions(where, raw, known)
  return raw
}

/** Checks that `value` can be iterated (synchronously, or also asynchronously when `orAsync`). */
export function checkIterable(name: string, value: unknown, orAsync = false): void {
  const object = value as { [Symbol.iterator]?: unknown; [Symbol.asyncIterator]?: unknown } | null
  if (
    object === null ||
    object === undefined ||
    (typeof object[Symbol.iterator] !== 'function' &&
      !(orAsync && typeof object[Symbol.asyncIterator] === 'function'))
  ) {
    throw invalidOption(name, orAsync ? 'an iterable or async iterable' : 'an iterable', value)
  }
}
