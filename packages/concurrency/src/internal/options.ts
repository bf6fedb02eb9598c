import { invalidOption } from '@hotpath/core'

// Options objects and their names are checked by core's one helper.
export { readOptions } from '@hotpath/core'

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
