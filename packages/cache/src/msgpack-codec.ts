import type { Codec } from './codec'
import { CacheCodecError } from './errors'

/**
 * The part of msgpackr's `Packr` this codec uses.
 *
 * @example
 * const packr: PackrLike = new Packr({ moreTypes: true, structuredClone: true })
 * const codec = await msgpackCodec({ packr })
 */
export interface PackrLike {
  pack(value: unknown): Uint8Array
  unpack(data: Uint8Array): unknown
}

/**
 * Options of {@link msgpackCodec}.
 *
 * @example
 * const options: MsgpackCodecOptions = { id: 'm2', packr: new Packr({ useRecords: true }) }
 * const cache = createCache({ codec: await msgpackCodec(options) })
 */
export interface MsgpackCodecOptions {
  /**
   * The codec id written into L2 keys.
   * @default 'm1'
   */
  id?: string
  /**
   * A ready `Packr` to use instead of loading `msgpackr` (for custom extensions or records).
   * @default a `new Packr({ moreTypes: true, useRecords: false, mapsAsObjects: true })`
   */
  packr?: PackrLike
}

/**
 * A MessagePack codec on the optional peer `msgpackr`, loaded when this function is called (not
 * when the package is imported). Smaller payloads and faster than JSON for binary-heavy values;
 * round-trips Date, Buffer, Uint8Array, Map, Set, BigInt and undefined. msgpackr never assigns
 * `__proto__` keys onto prototypes.
 *
 * @example
 * const cache = createCache({ codec: await msgpackCodec(), l2: redisStore({ client }) })
 */
export async function msgpackCodec(options: MsgpackCodecOptions = {}): Promise<Codec> {
  let packr = options.packr
  if (!packr) {
    let mod: { Packr: new (options: object) => PackrLike }
    try {
      mod = (await import('msgpackr')) as unknown as typeof mod
    } catch (error) {
      throw new CacheCodecError('msgpackCodec() needs the optional peer `msgpackr`: install it.', {
        cause: error,
      })
    }
    packr = new mod.Packr({ moreTypes: true, useRecords: false, mapsAsObjects: true, int64AsType: 'bigint' })
  }
  const used = packr
  return Object.freeze({
    id: options.id ?? 'm1',
    encode: (value: unknown) => used.pack(value),
    decode(data: string | Uint8Array): unknown {
      try {
        return used.unpack(typeof data === 'string' ? Buffer.from(data, 'latin1') : data)
      } catch (error) {
        throw new CacheCodecError('Could not decode a MessagePack cache payload.', { cause: error })
      }
    },
  })
}
