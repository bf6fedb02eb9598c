/** A value holding every type the default codec round-trips. */
export const sample = () => ({
  date: new Date(1_700_000_000_123),
  invalidDate: new Date(Number.NaN),
  buffer: Buffer.from('héllo'),
  bytes: new Uint8Array([0, 1, 255]),
  map: new Map<unknown, unknown>([
    ['a', 1],
    [2, { nested: new Date(5) }],
  ]),
  set: new Set(['x', 'y']),
  big: 2n ** 70n,
  missing: undefined,
  list: [1, undefined, 'three'],
  nan: Number.NaN,
  inf: Number.NEGATIVE_INFINITY,
  nul: null,
  text: 'plain \u0000 nul',
  tricky: { '\u0000': 'looks like a tag', other: 1 },
})
