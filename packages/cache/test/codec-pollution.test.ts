import fc from 'fast-check'
import { Packr } from 'msgpackr'
import { describe, expect, it } from 'vitest'
import { CacheCodecError, createCache, jsonCodec, msgpackCodec } from '../src/index'
import { MemoryStore } from './memory-store'

/** Spells `name` as JSON string content, each character literal or as a `\uXXXX` escape in either case. */
const spelled = (name: string) =>
  fc
    .array(fc.tuple(fc.boolean(), fc.boolean()), { minLength: name.length, maxLength: name.length })
    .map((choices) =>
      [...name]
        .map((char, i) => {
          const [asEscape, upper] = choices[i]!
          if (!asEscape) return char
          const hex = char.charCodeAt(0).toString(16).padStart(4, '0')
          return `\\u${upper ? hex.toUpperCase() : hex}`
        })
        .join(''),
    )

/** The text of a polluting member: `"__proto__":{…}` or `"constructor":{"prototype":{…}}`. */
const pollutingMember = fc.oneof(
  spelled('__proto__').map((proto) => `"${proto}":{"polluted":true}`),
  fc
    .tuple(spelled('constructor'), spelled('prototype'))
    .map(([ctor, proto]) => `"${ctor}":{"${proto}":{"polluted":true}}`),
)

const HOLE = '"@@hole@@"'
/** Harmless JSON around one hole at any depth, in an object or an array, next to other members. */
const surrounding: fc.Arbitrary<string> = fc.letrec<{ node: string }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(HOLE),
    fc
      .tuple(fc.dictionary(fc.string({ maxLength: 4 }), fc.jsonValue({ maxDepth: 1 })), tie('node'))
      .map(([siblings, inner]) => {
        const members = Object.entries(siblings).map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`)
        return `{${[...members, `"in":${inner}`].join(',')}}`
      }),
    fc
      .tuple(fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 }), tie('node'))
      .map(([items, inner]) => `[${[...items.map((v) => JSON.stringify(v)), inner].join(',')}]`),
  ),
})).node

/** A polluting object, placed at any depth of harmless JSON. */
const pollutingPayload = fc
  .tuple(surrounding, pollutingMember, fc.boolean())
  .map(([outer, member, first]) => outer.replace(HOLE, first ? `{${member},"a":1}` : `{"a":1,${member}}`))

/** Whether any object in `value` has an own key that could reach a prototype. */
function carriesPrototypeKey(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return false
  if (Array.isArray(value)) return value.some(carriesPrototypeKey)
  if (value instanceof Map) return [...value.values()].some(carriesPrototypeKey)
  if (value instanceof Set) return [...value].some(carriesPrototypeKey)
  if (Object.hasOwn(value, '__proto__')) return true
  const ctor = (value as Record<string, unknown>).constructor
  if (Object.hasOwn(value, 'constructor') && ctor !== null && typeof ctor === 'object') {
    if (Object.hasOwn(ctor, 'prototype')) return true
  }
  return Object.values(value).some(carriesPrototypeKey)
}

/** JSON with every character of every string and key written as a `\\uXXXX` escape. */
function escapedJson(value: unknown): string {
  if (typeof value === 'string') {
    let out = '"'
    for (let i = 0; i < value.length; i++) out += `\\u${value.charCodeAt(i).toString(16).padStart(4, '0')}`
    return `${out}"`
  }
  if (Array.isArray(value)) return `[${value.map(escapedJson).join(',')}]`
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value)
      .map(([k, v]) => `${escapedJson(k)}:${escapedJson(v)}`)
      .join(',')}}`
  }
  return JSON.stringify(value)
}

const polluted = () => ({}) as Record<string, unknown>

describe('jsonCodec: prototype keys in any spelling', () => {
  const codec = jsonCodec()

  it.each([
    '{"\\u005f_proto__":{"x":1}}',
    '{"__proto\\u005F_":{"x":1}}',
    '{"\\u0063onstructor":{"prototype":{"x":1}}}',
    '{"constructor":{"\\u0070rototype":{"x":1}}}',
    '[{"a":[{"b":{"\\u005f\\u005f\\u0070\\u0072\\u006f\\u0074\\u006f\\u005f\\u005f":{"x":1}}}]},1,2,3,0,0]',
    '{"\\u0000":"O","v":[["\\u005f_proto__",{"x":1}]]}',
  ])('refuses %s', (payload) => {
    expect(() => codec.decode(payload)).toThrow(CacheCodecError)
    expect(() => codec.decode(Buffer.from(payload))).toThrow(CacheCodecError)
  })

  it('property: a __proto__ or constructor.prototype member at any depth, in any spelling, is refused', () => {
    fc.assert(
      fc.property(pollutingPayload, (payload) => {
        // The payload is valid JSON that really carries the key once parsed.
        expect(carriesPrototypeKey(JSON.parse(payload))).toBe(true)
        expect(() => codec.decode(payload)).toThrow(CacheCodecError)
        expect(polluted().polluted).toBeUndefined()
      }),
      { numRuns: 500 },
    )
  })

  it('property: harmless JSON with escapes decodes as JSON.parse does', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = JSON.stringify(value)
        for (const payload of [text, escapedJson(value)]) {
          const parsed = JSON.parse(payload)
          if (carriesPrototypeKey(parsed)) continue
          expect(codec.decode(payload)).toStrictEqual(parsed)
        }
      }),
    )
  })

  it('keeps harmless lone `constructor` and `prototype` keys', () => {
    expect(codec.decode('{"\\u0063onstructor":"Foo","prototype":1}')).toEqual({
      constructor: 'Foo',
      prototype: 1,
    })
  })
})

describe('msgpackCodec: prototype keys', () => {
  // A payload with a `constructor.prototype` member, as msgpack bytes.
  const evil = () => JSON.parse('{"a":[{"constructor":{"prototype":{"polluted":true}}}]}') as unknown

  it('refuses constructor.prototype with the default Packr', async () => {
    const codec = await msgpackCodec()
    expect(() => codec.decode(codec.encode(evil()))).toThrow(CacheCodecError)
    expect(() => codec.decode(Buffer.from(codec.encode(evil())).toString('latin1'))).toThrow(CacheCodecError)
    expect(codec.decode(codec.encode({ constructor: 'Foo' }))).toEqual({ constructor: 'Foo' })
  })

  it('never hands out an own __proto__ key (msgpackr renames it; a custom Packr is checked)', async () => {
    const bytes = new Packr({ useRecords: false }).pack(JSON.parse('{"__proto__":{"polluted":true}}'))
    const back = (await msgpackCodec()).decode(bytes)
    expect(carriesPrototypeKey(back)).toBe(false)
    // A Packr that keeps keys as they are: the codec's own walk refuses the key.
    const raw: Packr = new Packr({ useRecords: false })
    const custom = await msgpackCodec({
      packr: {
        pack: (v) => raw.pack(v),
        unpack: () => JSON.parse('[{"b":{"__proto__":{"polluted":true}}}]'),
      },
    })
    expect(() => custom.decode(bytes)).toThrow(CacheCodecError)
    const customCtor = await msgpackCodec({ packr: raw })
    expect(() => customCtor.decode(raw.pack(evil()))).toThrow(CacheCodecError)
  })
})

describe('values crossing L2 never carry prototype keys', () => {
  it('property: a polluting payload written into L2 reads as a miss (counted), never as a value', async () => {
    const store = new MemoryStore()
    const cache = createCache({ l2: store, l1: false })
    let n = 0
    await fc.assert(
      fc.asyncProperty(pollutingPayload, async (payload) => {
        const key = `evil:${n++}`
        const before = cache.stats().codecErrors
        store.data.set(`cache:j1:${key}`, `[${payload},1,9e15,9e15,0,0]`)
        expect(await cache.get(key)).toBeUndefined()
        expect(await cache.getMany([key])).toEqual([undefined])
        expect(cache.stats().codecErrors).toBe(before + 2)
        expect(await cache.getOrSet(key, () => 'clean')).toBe('clean')
        expect(polluted().polluted).toBeUndefined()
      }),
      { numRuns: 100 },
    )
    await cache.close()
  })

  it('a value set with an own __proto__ key is not read back from L2 by another instance', async () => {
    const store = new MemoryStore()
    const writer = createCache({ l2: store })
    const reader = createCache({ l2: store })
    await writer.set('k', JSON.parse('{"__proto__":{"admin":true},"ok":1}'))
    const read = await reader.get('k')
    expect(read).toBeUndefined()
    expect(reader.stats().codecErrors).toBe(1)
  })
})
