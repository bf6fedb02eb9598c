import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { deferred, Summary } from '../src/index'
import { Deque, IndexedHeap, rejectThrough } from '../src/internal'

describe('Deque', () => {
  it('behaves like an array used as a queue at both ends', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('push', 'unshift', 'shift', 'pop'), fc.integer())),
        (ops) => {
          const deque = new Deque<number>(2)
          const model: number[] = []
          for (const [op, value] of ops) {
            if (op === 'push') {
              deque.push(value)
              model.push(value)
            } else if (op === 'unshift') {
              deque.unshift(value)
              model.unshift(value)
            } else if (op === 'shift') expect(deque.shift()).toBe(model.shift())
            else expect(deque.pop()).toBe(model.pop())
            expect(deque.size).toBe(model.length)
            expect(deque.peek()).toBe(model[0])
          }
          expect([...deque]).toEqual(model)
          expect(deque.drain()).toEqual(model)
          expect(deque.size).toBe(0)
        },
      ),
    )
  })
})

describe('IndexedHeap', () => {
  type Node = { heapIndex: number; key: number; id: number }
  it('pops in order and removes arbitrary items', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 20 })), fc.array(fc.nat()), (keys, removals) => {
        const heap = new IndexedHeap<Node>((a, b) => a.key < b.key || (a.key === b.key && a.id < b.id))
        const nodes = keys.map((key, id) => ({ heapIndex: -1, key, id }))
        for (const node of nodes) heap.push(node)
        const removed = new Set<Node>()
        for (const r of removals) {
          if (nodes.length === 0) break
          const node = nodes[r % nodes.length]!
          expect(heap.remove(node)).toBe(!removed.has(node))
          removed.add(node)
          expect(node.heapIndex).toBe(-1)
        }
        const expected = nodes.filter((n) => !removed.has(n)).sort((a, b) => a.key - b.key || a.id - b.id)
        expect(heap.drain()).toEqual(expected)
      }),
    )
  })
})

describe('Summary', () => {
  it('reports count, mean, min, max and percentiles within 5%', () => {
    const summary = new Summary()
    for (let i = 1; i <= 10_000; i++) summary.record(i / 10)
    const snap = summary.snapshot()
    expect(snap.count).toBe(10_000)
    expect(snap.min).toBe(0.1)
    expect(snap.max).toBe(1_000)
    expect(snap.mean).toBeCloseTo(500.05, 5)
    expect(Math.abs(snap.p50 - 500) / 500).toBeLessThan(0.05)
    expect(Math.abs(snap.p99 - 990) / 990).toBeLessThan(0.05)
    summary.reset()
    expect(summary.snapshot()).toEqual({ count: 0, min: 0, max: 0, mean: 0, p50: 0, p90: 0, p99: 0 })
  })
})

describe('deferred', () => {
  it('exposes resolve and reject', async () => {
    const ok = deferred<number>()
    ok.resolve(1)
    await expect(ok.promise).resolves.toBe(1)
    const bad = deferred<number>()
    bad.reject(new Error('x'))
    await expect(bad.promise).rejects.toThrow('x')
  })
})

describe('rejectThrough', () => {
  it('rejects the promise of a resolve function; later calls change nothing', async () => {
    let resolve!: (value: number) => void
    const promise = new Promise<number>((r) => {
      resolve = r
    })
    const reason = new Error('closed')
    rejectThrough(resolve, reason)
    resolve(2) // already settled: no effect
    await expect(promise).rejects.toBe(reason)
  })
})
