/**
 * An item that can sit in an {@link IndexedHeap}; the heap maintains `heapIndex` (-1 when out).
 *
 * @example
 * interface Waiter extends HeapItem { priority: number }
 * const waiters = new IndexedHeap<Waiter>((a, b) => a.priority > b.priority)
 */
export interface HeapItem {
  heapIndex: number
}

/**
 * A binary min-heap that tracks each item's position, so an item can be removed in O(log n)
 * (an aborted waiter leaves a priority queue at once, without a scan).
 *
 * @example
 * const heap = new IndexedHeap<{ heapIndex: number; at: number }>((a, b) => a.at < b.at)
 * const item = { heapIndex: -1, at: 5 }
 * heap.push(item); heap.remove(item)
 */
export class IndexedHeap<T extends HeapItem> {
  readonly #items: T[] = []
  readonly #less: (a: T, b: T) => boolean

  /** @param less - strict ordering: true when `a` must leave before `b` */
  constructor(less: (a: T, b: T) => boolean) {
    this.#less = less
  }

  /** Number of items. */
  get size(): number {
    return this.#items.length
  }

  /** The first item without removing it. */
  peek(): T | undefined {
    return this.#items[0]
  }

  /** Adds an item. */
  push(item: T): void {
    item.heapIndex = this.#items.length
    this.#items.push(item)
    this.#up(item.heapIndex)
  }

  /** Removes and returns the first item. */
  pop(): T | undefined {
    const items = this.#items
    if (items.length === 0) return undefined
    const top = items[0]!
    const last = items.pop()!
    if (items.length > 0) {
      items[0] = last
      last.heapIndex = 0
      this.#down(0)
    }
    top.heapIndex = -1
    return top
  }

  /** Removes `item` if present; returns whether it was. */
  remove(item: T): boolean {
    const index = item.heapIndex
    const items = this.#items
    if (index < 0 || index >= items.length || items[index] !== item) return false
    const last = items.pop()!
    if (last !== item) {
      items[index] = last
      last.heapIndex = index
      this.#down(index)
      this.#up(last.heapIndex)
    }
    item.heapIndex = -1
    return true
  }

  /** Re-sorts `item` after its ordering key changed. */
  update(item: T): void {
    if (item.heapIndex < 0) return
    this.#up(item.heapIndex)
    this.#down(item.heapIndex)
  }

  /** Removes and returns every item in heap order. */
  drain(): T[] {
    const out: T[] = []
    for (let item = this.pop(); item !== undefined; item = this.pop()) out.push(item)
    return out
  }

  #up(index: number): void {
    const items = this.#items
    const item = items[index]!
    while (index > 0) {
      const parentIndex = (index - 1) >> 1
      const parent = items[parentIndex]!
      if (!this.#less(item, parent)) break
      items[index] = parent
      parent.heapIndex = index
      index = parentIndex
    }
    items[index] = item
    item.heapIndex = index
  }

  #down(index: number): void {
    const items = this.#items
    const length = items.length
    const item = items[index]!
    for (;;) {
      const left = 2 * index + 1
      if (left >= length) break
      const right = left + 1
      const child = right < length && this.#less(items[right]!, items[left]!) ? right : left
      if (!this.#less(items[child]!, item)) break
      items[index] = items[child]!
      items[index]!.heapIndex = index
      index = child
    }
    items[index] = item
    item.heapIndex = index
  }
}
