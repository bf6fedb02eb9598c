/**
 * A double-ended queue on a growable ring buffer: O(1) push/shift at both ends, no per-item
 * allocation, unlike `Array.prototype.shift` which is O(n).
 *
 * @example
 * const q = new Deque<number>()
 * q.push(1); q.push(2); q.unshift(0)
 * q.shift() // 0
 */
export class Deque<T> {
  #items: (T | undefined)[]
  #head = 0
  #size = 0

  constructor(initialCapacity = 16) {
    let capacity = 16
    while (capacity < initialCapacity) capacity *= 2
    this.#items = new Array(capacity)
  }

  /** Number of items. */
  get size(): number {
    return this.#size
  }

  /** Appends at the back. */
  push(item: T): void {
    if (this.#size === this.#items.length) this.#grow()
    this.#items[(this.#head + this.#size) & (this.#items.length - 1)] = item
    this.#size++
  }

  /** Prepends at the front. */
  unshift(item: T): void {
    if (this.#size === this.#items.length) this.#grow()
    this.#head = (this.#head - 1) & (this.#items.length - 1)
    this.#items[this.#head] = item
    this.#size++
  }

  /** Removes and returns the front item. */
  shift(): T | undefined {
    if (this.#size === 0) return undefined
    const item = this.#items[this.#head]
    this.#items[this.#head] = undefined
    this.#head = (this.#head + 1) & (this.#items.length - 1)
    this.#size--
    return item
  }

  /** Removes and returns the back item. */
  pop(): T | undefined {
    if (this.#size === 0) return undefined
    const index = (this.#head + this.#size - 1) & (this.#items.length - 1)
    const item = this.#items[index]
    this.#items[index] = undefined
    this.#size--
    return item
  }

  /** The front item without removing it. */
  peek(): T | undefined {
    return this.#size === 0 ? undefined : this.#items[this.#head]
  }

  /** The item at position `index` from the front. */
  at(index: number): T | undefined {
    if (index < 0 || index >= this.#size) return undefined
    return this.#items[(this.#head + index) & (this.#items.length - 1)]
  }

  /** Removes every item. */
  clear(): void {
    this.#items = new Array(16)
    this.#head = 0
    this.#size = 0
  }

  /** Removes and returns every item, front first. */
  drain(): T[] {
    const out: T[] = new Array(this.#size)
    for (let i = 0; i < out.length; i++) out[i] = this.at(i) as T
    this.clear()
    return out
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = 0; i < this.#size; i++) yield this.at(i) as T
  }

  #grow(): void {
    const old = this.#items
    const next = new Array<T | undefined>(old.length * 2)
    for (let i = 0; i < this.#size; i++) next[i] = old[(this.#head + i) & (old.length - 1)]
    this.#items = next
    this.#head = 0
  }
}
