import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { type Bucket, type BucketItem, PriorityBuckets } from '../src/internal/priority-buckets'

class Item implements BucketItem {
  bucket: Bucket<BucketItem> | undefined = undefined
  constructor(
    readonly id: number,
    readonly priority: number,
  ) {}
}

/** The order a priority queue must give: higher priority first, then arrival order. */
const expected = (items: Item[]) =>
  [...items].sort((a, b) => b.priority - a.priority || a.id - b.id).map((item) => item.id)

const ids = (items: (Item | undefined)[]) => items.map((item) => item?.id)

describe('PriorityBuckets', () => {
  it('serves higher priority first and FIFO within a priority, negative and float priorities too', () => {
    const queue = new PriorityBuckets<Item>()
    const items = [0, 5, 0, -1, 5, 2.5, 9, -1, 2.5, 0].map((priority, id) => new Item(id, priority))
    for (const item of items) queue.push(item, item.priority)
    expect(queue.size).toBe(items.length)
    expect(queue.peek()?.id).toBe(6)
    expect(ids(queue.drain())).toEqual(expected(items))
    expect(queue.size).toBe(0)
    expect(queue.peek()).toBeUndefined()
    expect(queue.shift()).toBeUndefined()
  })

  it('removes from the middle at once, and a removed item no longer counts', () => {
    const queue = new PriorityBuckets<Item>()
    const items = Array.from({ length: 10 }, (_, id) => new Item(id, id % 2))
    for (const item of items) queue.push(item, item.priority)
    expect(queue.remove(items[4]!)).toBe(true)
    expect(queue.remove(items[4]!)).toBe(false)
    expect(queue.remove(items[1]!)).toBe(true) // the front item
    expect(queue.size).toBe(8)
    expect(queue.peek()?.id).toBe(3)
    expect(items[4]!.bucket).toBeUndefined()
    expect(ids(queue.drain())).toEqual([3, 5, 7, 9, 0, 2, 6, 8])
  })

  it('refuses to remove an item of another queue or one already served', () => {
    const a = new PriorityBuckets<Item>()
    const b = new PriorityBuckets<Item>()
    const item = new Item(1, 3)
    a.push(item, 3)
    b.push(new Item(2, 3), 3)
    expect(b.remove(item)).toBe(false)
    expect(a.shift()).toBe(item)
    expect(a.remove(item)).toBe(false)
  })

  it('an emptied priority leaves the heap, and comes back in its place', () => {
    const queue = new PriorityBuckets<Item>()
    const x = new Item(1, 3)
    queue.push(x, 3)
    queue.push(new Item(2, 1), 1)
    queue.remove(x)
    expect(queue.peek()?.id).toBe(2)
    queue.push(new Item(3, 3), 3)
    expect(ids(queue.drain())).toEqual([3, 2])
  })

  it('last() gives the newest live item of a priority', () => {
    const queue = new PriorityBuckets<Item>()
    expect(queue.last(0)).toBeUndefined()
    const a = new Item(1, 0)
    const b = new Item(2, 0)
    queue.push(a, 0)
    queue.push(b, 0)
    queue.push(new Item(3, 7), 7)
    expect(queue.last(0)).toBe(b)
    expect(queue.last(7)?.id).toBe(3)
    expect(queue.last(4)).toBeUndefined()
    queue.remove(b)
    expect(queue.last(0)).toBeUndefined() // its slot holds a tombstone
  })

  it('compacts a bucket whose removed items outnumber the live ones, keeping the order', () => {
    const queue = new PriorityBuckets<Item>()
    const items = Array.from({ length: 1_000 }, (_, id) => new Item(id, 0))
    for (const item of items) queue.push(item, 0)
    for (const item of items) if (item.id % 10 !== 0) queue.remove(item)
    expect(queue.size).toBe(100)
    expect(ids(queue.drain())).toEqual(items.filter((item) => item.id % 10 === 0).map((item) => item.id))
  })

  it('a random mix of push, shift and remove matches a sorted reference (property)', () => {
    type Op = { kind: 'push'; priority: number } | { kind: 'shift' } | { kind: 'remove'; pick: number }
    const op: fc.Arbitrary<Op> = fc.oneof(
      {
        weight: 3,
        arbitrary: fc.record({
          kind: fc.constant('push' as const),
          priority: fc.oneof(
            fc.integer({ min: -3, max: 3 }),
            fc.double({ min: -1e6, max: 1e6, noNaN: true, noDefaultInfinity: true }),
          ),
        }),
      },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('shift' as const) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('remove' as const), pick: fc.nat() }) },
    )
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        const queue = new PriorityBuckets<Item>()
        let live: Item[] = []
        let next = 0
        for (const o of ops) {
          if (o.kind === 'push') {
            const item = new Item(next++, o.priority)
            queue.push(item, o.priority)
            live.push(item)
          } else if (o.kind === 'shift') {
            const want = expected(live)[0]
            expect(queue.shift()?.id).toBe(want)
            live = live.filter((item) => item.id !== want)
          } else if (live.length > 0) {
            const victim = live[o.pick % live.length]!
            expect(queue.remove(victim)).toBe(true)
            live = live.filter((item) => item !== victim)
          }
          expect(queue.size).toBe(live.length)
          expect(queue.peek()?.id).toBe(expected(live)[0])
        }
        expect(ids(queue.drain())).toEqual(expected(live))
      }),
      { numRuns: 200 },
    )
  })

  it('keeps many distinct priorities in O(log n) and drops empty buckets beyond a few', () => {
    const queue = new PriorityBuckets<Item>()
    const items = Array.from({ length: 5_000 }, (_, id) => new Item(id, Math.sin(id) * 1_000))
    for (const item of items) queue.push(item, item.priority)
    expect(ids(queue.drain())).toEqual(expected(items))
    // Same priorities again: emptied buckets were dropped or reused, the order is still right.
    const again = items.map((item) => new Item(item.id + 5_000, item.priority))
    for (const item of again) queue.push(item, item.priority)
    expect(ids(queue.drain())).toEqual(expected(again))
  })
})
