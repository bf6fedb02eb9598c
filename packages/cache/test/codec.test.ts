import { describe, expect, it } from 'vitest'
import { CacheCodecError, jsonCodec, msgpackCodec } from '../src/index'
import { sample } from './sample'

describe('jsonCodec', () => {
  const codec = jsonCodec()

  it('round-trips Date, Buffer, Uint8Array, Map, Set, BigInt, undefined and non-finite numbers', () => {
    const value = sample()
    const back = codec.decode(codec.encode(value)) as ReturnType<typeof sample>
    expect(back).toEqual(value)
    expect(Buffer.isBuffer(back.buffer)).toBe(true)
    expect(back.bytes).toBeInstanceOf(Uint8Array)
    expect(Buffer.isBuffer(back.bytes)).toBe(false)
    expect(back.map).toBeInstanceOf(Map)
    expect(back.map.get(2)).toEqual({ nested: new Date(5) })
    expect('missing' in back).toBe(true)
    expect(back.list).toEqual([1, undefined, 'three'])
  })

  it('round-trips top-level special values', () => {
    for (const value of [undefined, 5n, new Date(0), 'text', 0, null, [undefined]]) {
      expect(codec.decode(codec.encode(value))).toEqual(value)
    }
  })

  it('decodes bytes as well as strings', () => {
    expect(codec.decode(Buffer.from(codec.encode({ a: new Date(1) }) as string))).toEqual({ a: new Date(1) })
  })

  it.each([
    '{"__proto__":{"polluted":true}}',
    '{"deep":[{"__proto__":{"polluted":true}}]}',
    '{"constructor":{"prototype":{"polluted":true}}}',
    '{"\\u0000":"O","v":[["__proto__",{"polluted":true}]]}',
    '{"\\u0000":"M","v":[["k",{"__proto__":{"polluted":true}}]]}',
  ])('refuses a polluting payload %s', (payload) => {
    expect(() => codec.decode(payload)).toThrow(CacheCodecError)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('accepts a harmless "constructor" key', () => {
    expect(codec.decode('{"constructor":"Foo"}')).toEqual({ constructor: 'Foo' })
  })

  it('refuses garbage with a CacheCodecError', () => {
    expect(() => codec.decode('{nope')).toThrow(CacheCodecError)
    expect(() => codec.decode('{"\\u0000":"?","v":1}')).toThrow(CacheCodecError)
  })

  it('carries a codec id for the key space', () => {
    expect(codec.id).toBe('j1')
    expect(jsonCodec({ id: 'j2' }).id).toBe('j2')
  })
})

describe('msgpackCodec', () => {
  it('loads msgpackr and round-trips binary-friendly types', async () => {
    const codec = await msgpackCodec()
    expect(codec.id).toBe('m1')
    const value = {
      date: new Date(7),
      buffer: Buffer.from([1, 2]),
      bytes: new Uint8Array([3]),
      set: new Set([1]),
      big: 2n ** 70n,
      missing: undefined,
      list: [undefined, 1],
    }
    const encoded = codec.encode(value)
    expect(encoded).toBeInstanceOf(Uint8Array)
    expect(codec.decode(encoded)).toEqual(value)
  })

  it('refuses garbage with a CacheCodecError', async () => {
    const codec = await msgpackCodec()
    expect(() => codec.decode(new Uint8Array([0xdb, 0, 0]))).toThrow(CacheCodecError)
  })
})
