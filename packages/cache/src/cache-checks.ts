// Argument checks shared by the Cache methods, in the project's TypeError format.
import { checkOptionsObject, invalidOption } from '@hotpath/core'

export function checkKey(key: unknown): string {
  if (typeof key !== 'string') throw invalidOption('key', 'a string', key)
  return key
}

/** Refuses anything but an array of strings (a string is not a list of its characters). */
export function checkKeys(keys: unknown): readonly string[] {
  if (!Array.isArray(keys)) throw invalidOption('keys', 'an array of strings', keys)
  for (let i = 0; i < keys.length; i++) {
    if (typeof keys[i] !== 'string') throw invalidOption(`keys[${i}]`, 'a string', keys[i])
  }
  return keys
}

export function checkOptions<O extends object>(options: O, name = 'options'): O {
  return checkOptionsObject(name, options) as O
}
