import { checkKnownOptions, checkOptionsObject, checkString } from '@hotpath/core'
import { CacheCodecError } from './errors'

/**
 * Turns values into bytes (or strings) and back. One codec serves both tiers: L1 uses the encoded
 * length as an entry's size, L2 stores the encoded form.
 *
 * @example
 * const plainJson: Codec = { id: 'p1', encode: (value) => JSON.stringify(value),
 *   decode: (data) => JSON.parse(typeof data === 'string' ? data : Buffer.from(data).toString()) }
 * const cache = createCache({ codec: plainJson })
 */
export interface Codec {
  /**
   * A short id written into every L2 key (`…:j1:key`). A deploy with a new format uses a new id,
   * so it never reads entries written in the old one.
   */
  readonly id: string
  /** Encodes a value. */
  encode(value: unknown): string | Uint8Array
  /** Decodes what {@link Codec.encode} produced; throws a `CacheCodecError` on bad input. */
  decode(data: string | Uint8Array): unknown
}

/**
 * Options of {@link jsonCodec}.
 *
 * @example
 * const cache = createCache({ codec: jsonCodec({ id: 'j2' }), l2: redisStore({ client }) })
 */
export interface JsonCodecOptions {
  /**
   * The codec id written into L2 keys.
   * @default 'j1'
   */
  id?: string
}

// A tagged value is an object whose first key is NUL: {"\u0000":"D","v":…}. JSON.stringify writes
// NUL as the six characters \u0000, so a payload without them has no tag and skips the revive walk.
const TAG = '\u0000'
const TAG_IN_TEXT = '\\u0000'
const decoder = new TextDecoder('utf-8', { fatal: true })

function replacer(this: Record<string, unknown>, key: string, value: unknown): unknown {
  // `this[key]` is the raw value, before Date#toJSON / Buffer#toJSON ran.
  const raw = this[key]
  switch (typeof raw) {
    case 'undefined':
      return { [TAG]: 'u' }
    case 'bigint':
      return { [TAG]: 'I', v: raw.toString() }
    case 'number':
      return Number.isFinite(raw) ? raw : { [TAG]: 'N', v: String(raw) }
    case 'object': {
      if (raw === null || Array.isArray(raw)) return value
      if (raw instanceof Date) return { [TAG]: 'D', v: raw.getTime() }
      if (raw instanceof Uint8Array) {
        const base64 = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64')
        return { [TAG]: Buffer.isBuffer(raw) ? 'B' : 'U', v: base64 }
      }
      if (raw instanceof Map) return { [TAG]: 'M', v: [...raw] }
      if (raw instanceof Set) return { [TAG]: 'S', v: [...raw] }
      if (Object.hasOwn(raw, TAG)) return { [TAG]: 'O', v: Object.entries(raw) }
      return value
    }
    default:
      return value
  }
}

const protoKeyError = () =>
  new CacheCodecError('Refused a cache payload with a `__proto__` key (prototype pollution).')

/**
 * Throws when `holder` has an own key through which a merge could reach a prototype: `__proto__`,
 * or a `constructor` object carrying `prototype`. A lone `constructor` or `prototype` key is data.
 */
export function refusePollution(holder: object): void {
  if (Object.hasOwn(holder, '__proto__')) throw protoKeyError()
  if (!Object.hasOwn(holder, 'constructor')) return
  const ctor = (holder as { constructor: unknown }).constructor
  if (ctor !== null && typeof ctor === 'object' && Object.hasOwn(ctor, 'prototype')) {
    throw new CacheCodecError(
      'Refused a cache payload with a `constructor.prototype` key (prototype pollution).',
    )
  }
}

/**
 * Walks a decoded value and throws {@link refusePollution}'s error for the first prototype key at
 * any depth, inside arrays, plain objects, Map values and Set items.
 */
export function refusePollutionDeep(value: unknown): void {
  if (value === null || typeof value !== 'object') return
  if (Array.isArray(value)) {
    for (const item of value) refusePollutionDeep(item)
    return
  }
  if (value instanceof Map) {
    for (const item of value.values()) refusePollutionDeep(item)
    return
  }
  if (value instanceof Set) {
    for (const item of value) refusePollutionDeep(item)
    return
  }
  if (ArrayBuffer.isView(value) || value instanceof Date) return
  refusePollution(value)
  for (const key in value) {
    if (Object.hasOwn(value, key)) refusePollutionDeep((value as Record<string, unknown>)[key])
  }
}

function untag(tagged: Record<string, unknown>): unknown {
  const v = tagged.v
  switch (tagged[TAG]) {
    case 'u':
      return undefined
    case 'I':
      return BigInt(v as string)
    case 'N':
      return Number(v)
    case 'D':
      return new Date(v === null ? Number.NaN : (v as number))
    case 'B':
      return Buffer.from(v as string, 'base64')
    case 'U': {
      const buffer = Buffer.from(v as string, 'base64')
      return new Uint8Array(buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength))
    }
    case 'M':
      return new Map((revive(v) as [unknown, unknown][]) ?? [])
    case 'S':
      return new Set((revive(v) as unknown[]) ?? [])
    case 'O': {
      const out: Record<string, unknown> = {}
      for (const [key, value] of v as [string, unknown][]) {
        if (key === '__proto__') throw protoKeyError()
        out[key] = revive(value)
      }
      refusePollution(out)
      return out
    }
    default:
      throw new CacheCodecError(`Unknown tag ${JSON.stringify(tagged[TAG])} in a JSON cache payload.`)
  }
}

function revive(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = revive(value[i])
    return value
  }
  const holder = value as Record<string, unknown>
  refusePollution(holder)
  if (typeof holder[TAG] === 'string' && Object.hasOwn(holder, TAG)) return untag(holder)
  for (const key of Object.keys(holder)) {
    const item = holder[key]
    if (item !== null && typeof item === 'object') holder[key] = revive(item)
  }
  return holder
}

/**
 * The default codec: JSON extended to round-trip `Date`, `Buffer`, `Uint8Array`, `Map`, `Set`,
 * `BigInt`, `NaN`/`Infinity` and `undefined` (in objects, arrays and at the top). Decoding refuses
 * payloads carrying `__proto__` or `constructor.prototype` keys instead of handing them to code
 * that might merge them into an object.
 *
 * @example
 * const codec = jsonCodec()
 * codec.decode(codec.encode({ at: new Date(0), ids: new Set([1n]) })) // same shape and types
 */
export function jsonCodec(options: JsonCodecOptions = {}): Codec {
  const raw = checkOptionsObject('options', options)
  checkKnownOptions('jsonCodec()', raw, ['id'])
  const id = checkString('id', raw.id ?? 'j1')
  return Object.freeze({
    id,
    encode(value: unknown): string {
      const text = JSON.stringify(value, replacer)
      // JSON.stringify returns undefined only for a lone function or symbol.
      return text === undefined ? `{"${TAG_IN_TEXT}":"u"}` : text
    },
    decode(data: string | Uint8Array): unknown {
      let text: string
      let parsed: unknown
      try {
        text = typeof data === 'string' ? data : decoder.decode(data)
        parsed = JSON.parse(text)
      } catch (error) {
        throw new CacheCodecError('Could not parse a JSON cache payload.', { cause: error })
      }
      // A key can only spell `__proto__` or `constructor` literally or with a \u escape (no other
      // JSON escape yields a letter or `_`), so text with neither cannot carry one and skips the
      // walk. Tags are written as \u0000, so the same test finds them.
      if (!text.includes('\\u') && !text.includes('__proto__') && !text.includes('constructor')) return parsed
      return revive(parsed)
    },
  })
}
