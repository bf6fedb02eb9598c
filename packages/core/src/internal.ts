/**
 * Building blocks shared by the hotpath packages. NOT public API: anything here may change or
 * go away in any release, without notice. Applications import from `@hotpath/core`.
 *
 * @packageDocumentation
 */
export { rejectThrough } from './deferred'
export { Deque } from './deque'
export { type HeapItem, IndexedHeap } from './heap'
