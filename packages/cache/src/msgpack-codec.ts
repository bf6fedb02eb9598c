import { checkKnownOptions, checkOptionsObject, checkString, invalidOption } from '@hotpath/core'
import { type Codec, refusePollutionDeep } from './codec'
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
 * round-trips Date, Buffer, Uint8Array, Map, Set, BigInt and undefined. Decoding refuses payloads
 * carrying `constructor.prototype` keys, as {@link jsonCodec} does; msgpackr itself renames a
 * `__proto__` key to `__proto_`, and the output of a Packr passed in is checked for one.
 *
 * @example
 * const cache = createCache({ codec: await msgpackCodec(), l2: redisStore({ client }) })
 */
export function msgpackCodec(options: MsgpackCodecOptions = {}): Promise<Codec> {
  const raw = checkOptionsObject('options', options)
  checkKnownOptions('msgpackCodec()', raw, ['id', 'packr'])
  const id = checkString('id', raw.id ?? 'm1')
  const packr = raw.packr
  if (packr !== undefined && (typeof packr?.pack !== 'function' || typeof packr.unpack !== 'function')) {
    throw invalidOption('packr', 'a Packr ({ pack, unpack })', packr)
  }
  // msgpack strings are raw UTF-8 with no escapes, so with our own Packr a payload whose bytes
  // never spell `constructor` or `__proto__` cannot carry such a key and skips the walk. A Packr
  // passed in may keep keys elsewhere (shared structures), so its output is always walked.
  return packr !== undefined
    ? Promise.resolve(codec(id, packr, true))
    : loadPackr().then((own) => codec(id, own, false))
}

async function loadPackr(): Promise<PackrLike> {
  let mod: { Packr: new (options: object) => PackrLike }
  try {
    mod = (await import('msgpackr')) as unknown as typeof mod
  } catch (error) {
    throw new CacheCodecError('msgpackCodec() needs the optional peer `msgpackr`: install it.', {
      cause: error,
    })
  }
  return new mod.Packr({ moreTypes: true, useRecords: false, mapsAsObjects: true, int64AsType: 'bigint' })
}

function codec(id: string, packr: PackrLike, walkAlways: boolean): Codec {
  return Object.freeze({
    id,
    encode: (value: unknown) => packr.pack(value),
    decode(data: string | Uint8Array): unknown {
      const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : data
      let value: unknown
      try {
        value = packr.unpack(bytes)
      } catch (error) {
        throw new CacheCodecError('Could not decode a MessagePack cache payload.', { cause: error })
      }
      if (walkAlways || mayCarryPrototypeKey(bytes)) refusePollutionDeep(value)
      return value
    },
  })
}

const CONSTRUCTOR = Buffer.from('constructor')
const PROTO = Buffer.from('__proto__')

/**
 * Whether the bytes spell `constructor` or `__proto__` anywhere. One pass in JS: on payloads of a
 * few hundred bytes, two native `Buffer#includes` calls cost more than the scan itself.
 */
function mayCarryPrototypeKey(bytes: Uint8Array): boolean {
  const end = bytes.length - PROTO.length
  for (let i = 0; i <= end; i++) {
    const byte = bytes[i]
    if (byte === 0x63 /* c */) {
      if (matchesAt(bytes, i, CONSTRUCTOR)) return true
    } else if (byte === 0x5f /* _ */ && matchesAt(bytes, i, PROTO)) return true
  }
  return false
}

function matchesAt(bytes: Uint8Array, at: number, word: Uint8Array): boolean {
  if (at + word.length > bytes.length) return false
  for (let j = 1; j < word.length; j++) if (bytes[at + j] !== word[j]) return false
  return true
}
