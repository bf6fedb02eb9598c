/** What an item needs to sit in {@link PriorityBuckets}: the bucket holding it, kept by the structure. */
export interface BucketItem {
  /** The bucket holding the item; undefined while it is in no queue. */
  bucket: Bucket<BucketItem> | undefined
}

const INITIAL_CAPACITY = 4

/**
 * The items of one priority, oldest first, in a ring buffer. A removed item stays in its slot as
 * a tombstone (its `bucket` no longer points here) until it reaches the front or the bucket is
 * compacted.
 */
export class Bucket<T extends BucketItem> {
  readonly priority: number
  items: (T | undefined)[] = new Array(INITIAL_CAPACITY)
  /** Slot of the front item. */
  head = 0
  /** Slots in use, tombstones included. */
  length = 0
  /** Items still queued. */
  live = 0
  /** Position in the heap of non-empty buckets; -1 while empty. */
  heapIndex = -1

  constructor(priority: number) {
    this.priority = priority
  }
}

/** Empty buckets kept for reuse (beyond this many distinct priorities, empty ones are dropped). */
const KEEP_EMPTY = 16
/** A bucket is compacted when its tombstones exceed both this and its live items. */
const COMPACT_AFTER = 64

/**
 * A priority queue of items, higher priority first and first-in first-out within a priority: one
 * ring buffer per distinct priority (a bucket), the non-empty buckets in a binary max-heap.
 *
 * With d distinct priorities among the queued items, `push` is O(1) (amortized) plus O(log d) when
 * a bucket appears, `peek` and `shift` are O(1) (amortized) plus O(log d) when the front bucket
 * empties, and `remove` is O(1) (a tombstone) plus O(log d) when its bucket empties. With one
 * priority (the usual default) it is a plain FIFO; with every priority distinct it is a binary
 * heap, O(log n). Items sit in arrays rather than in a linked list: the garbage collector marks a
 * 100,000-long linked list one node after the other, in one long pause.
 */
export class PriorityBuckets<T extends BucketItem> {
  /** Bucket of priority 0, kept outside the map: the default priority costs no lookup. */
  readonly #zero = new Bucket<T>(0)
  readonly #others = new Map<number, Bucket<T>>()
  /** Non-empty buckets; heap[0] holds the highest priority. */
  readonly #heap: Bucket<T>[] = []
  /** keys[i] is heap[i].priority: the heap compares numbers side by side, not through buckets. */
  #keys = new Float64Array(8)
  #size = 0

  /** Number of items. */
  get size(): number {
    return this.#size
  }

  /**
   * Appends `item` behind the items of the same priority. The item must never have been in this
   * queue: a removed item may still sit in its bucket as a tombstone.
   */
  push(item: T, priority: number): void {
    let bucket: Bucket<T> | undefined
    if (priority === 0) bucket = this.#zero
    else {
      bucket = this.#others.get(priority)
      if (bucket === undefined) {
        bucket = new Bucket<T>(priority)
        this.#others.set(priority, bucket)
      }
    }
    if (bucket.live === 0) this.#heapInsert(bucket)
    if (bucket.length === bucket.items.length) grow(bucket)
    bucket.items[(bucket.head + bucket.length) & (bucket.items.length - 1)] = item
    bucket.length++
    bucket.live++
    item.bucket = bucket as Bucket<BucketItem>
    this.#size++
  }

  /** The last item of `priority` (the newest), if any. */
  last(priority: number): T | undefined {
    const bucket = priority === 0 ? this.#zero : this.#others.get(priority)
    if (bucket === undefined || bucket.live === 0) return undefined
    const item = bucket.items[(bucket.head + bucket.length - 1) & (bucket.items.length - 1)]!
    return item.bucket === bucket ? item : undefined
  }

  /** The first item (highest priority, oldest), without removing it. */
  peek(): T | undefined {
    if (this.#size === 0) return undefined
    const bucket = this.#heap[0]!
    const items = bucket.items
    const mask = items.length - 1
    for (;;) {
      const item = items[bucket.head]!
      if (item.bucket === bucket) return item
      // A tombstone at the front: drop it.
      items[bucket.head] = undefined
      bucket.head = (bucket.head + 1) & mask
      bucket.length--
    }
  }

  /** Removes and returns the first item. */
  shift(): T | undefined {
    if (this.#size === 0) return undefined
    const bucket = this.#heap[0]!
    const items = bucket.items
    const mask = items.length - 1
    let item: T
    do {
      item = items[bucket.head]!
      items[bucket.head] = undefined
      bucket.head = (bucket.head + 1) & mask
      bucket.length--
    } while (item.bucket !== bucket)
    item.bucket = undefined
    this.#size--
    if (--bucket.live === 0) this.#emptied(bucket)
    return item
  }

  /** Removes `item` wherever it stands; returns false when it was in no bucket of this queue. */
  remove(item: T): boolean {
    const bucket = item.bucket as Bucket<T> | undefined
    if (bucket === undefined || this.#heap[bucket.heapIndex] !== bucket) return false
    item.bucket = undefined
    this.#size--
    if (--bucket.live === 0) this.#emptied(bucket)
    else if (bucket.length - bucket.live > COMPACT_AFTER && bucket.length - bucket.live > bucket.live) {
      compact(bucket)
    }
    return true
  }

  /** Removes every item and returns them in queue order. */
  drain(): T[] {
    const out: T[] = []
    for (let item = this.shift(); item !== undefined; item = this.shift()) out.push(item)
    return out
  }

  #emptied(bucket: Bucket<T>): void {
    // Only tombstones are left (if anything): drop them with the array if it had grown.
    if (bucket.items.length > INITIAL_CAPACITY) bucket.items = new Array(INITIAL_CAPACITY)
    else bucket.items.fill(undefined)
    bucket.head = 0
    bucket.length = 0
    this.#heapRemove(bucket)
    if (bucket !== this.#zero && this.#others.size > KEEP_EMPTY) this.#others.delete(bucket.priority)
  }

  #heapInsert(bucket: Bucket<T>): void {
    const heap = this.#heap
    let index = heap.length
    heap.push(bucket)
    if (index === this.#keys.length) {
      const keys = new Float64Array(index * 2)
      keys.set(this.#keys)
      this.#keys = keys
    }
    const priority = bucket.priority
    index = this.#siftUp(index, priority)
    heap[index] = bucket
    this.#keys[index] = priority
    bucket.heapIndex = index
  }

  /** Moves lower-priority ancestors of the hole at `at` down; returns where `priority` belongs. */
  #siftUp(at: number, priority: number): number {
    const heap = this.#heap
    const keys = this.#keys
    while (at > 0) {
      const parentIndex = (at - 1) >> 1
      if (keys[parentIndex]! >= priority) break
      const parent = heap[parentIndex]!
      heap[at] = parent
      keys[at] = keys[parentIndex]!
      parent.heapIndex = at
      at = parentIndex
    }
    return at
  }

  #heapRemove(bucket: Bucket<T>): void {
    const heap = this.#heap
    const keys = this.#keys
    const index = bucket.heapIndex
    bucket.heapIndex = -1
    const last = heap.pop()!
    if (last === bucket) return
    // The last bucket fills the hole, then moves down, or up: it may outrank the hole's parent.
    const priority = keys[heap.length]!
    const length = heap.length
    let at = index
    for (;;) {
      const left = 2 * at + 1
      if (left >= length) break
      const right = left + 1
      const child = right < length && keys[right]! > keys[left]! ? right : left
      if (keys[child]! <= priority) break
      const childBucket = heap[child]!
      heap[at] = childBucket
      keys[at] = keys[child]!
      childBucket.heapIndex = at
      at = child
    }
    at = this.#siftUp(at, priority)
    heap[at] = last
    keys[at] = priority
    last.heapIndex = at
  }
}

function grow<T extends BucketItem>(bucket: Bucket<T>): void {
  const old = bucket.items
  const next = new Array<T | undefined>(old.length * 2)
  for (let i = 0; i < bucket.length; i++) next[i] = old[(bucket.head + i) & (old.length - 1)]
  bucket.items = next
  bucket.head = 0
}

/** Drops the tombstones of `bucket`, keeping the order of its live items. */
function compact<T extends BucketItem>(bucket: Bucket<T>): void {
  const old = bucket.items
  let capacity = INITIAL_CAPACITY
  while (capacity < bucket.live) capacity *= 2
  const next = new Array<T | undefined>(capacity)
  let count = 0
  for (let i = 0; i < bucket.length; i++) {
    const item = old[(bucket.head + i) & (old.length - 1)]!
    if (item.bucket === bucket) next[count++] = item
  }
  bucket.items = next
  bucket.head = 0
  bucket.length = count
}
