import { createRequire } from 'node:module'

/**
 * A `require` that works from the ESM and the CJS build alike, so optional peers are loaded only
 * when a dialect first connects (the main entry never loads them).
 * @internal
 */
export function localRequire(): NodeJS.Require {
  return typeof require === 'function' ? require : createRequire(import.meta.url)
}

/** @internal Loads an optional peer, explaining how to install it when it is missing. */
export async function loadModule<T>(name: string): Promise<T> {
  try {
    const loaded = localRequire()(name) as T & { default?: T }
    return loaded.default ?? loaded
  } catch (error) {
    throw new Error(
      `@hotpath/pool/kysely needs the optional peer '${name}': install it with \`npm i ${name}\`.`,
      {
        cause: error,
      },
    )
  }
}
