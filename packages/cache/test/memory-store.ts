import type { CacheStore, StoredValue, StoreWrite } from '../src/index'

/** A test-only L2 store in memory; `mode` makes it fail or hang to exercise timeouts and the breaker. */
export class MemoryStore implements CacheStore {
  readonly kind = 'memory'
  readonly data = new Map<string, StoredValue>()
  readonly tagVersions = new Map<string, number>()
  mode: 'ok' | 'fail' | 'hang' = 'ok'
  calls = 0

  #gate<T>(fn: () => T): Promise<T> {
    this.calls++
    if (this.mode === 'fail') return Promise.reject(new Error('store down'))
    if (this.mode === 'hang') return new Promise(() => {})
    return Promise.resolve().then(fn)
  }

  get(key: string) {
    return this.#gate(() => this.data.get(key))
  }
  getMany(keys: readonly string[]) {
    return this.#gate(() => keys.map((key) => this.data.get(key)))
  }
  set(key: string, value: StoredValue) {
    return this.#gate(() => void this.data.set(key, value))
  }
  setMany(writes: readonly StoreWrite[]) {
    return this.#gate(() => {
      for (const write of writes) this.data.set(write.key, write.value)
    })
  }
  delete(keys: readonly string[]) {
    return this.#gate(() => {
      for (const key of keys) this.data.delete(key)
    })
  }
  clear(prefix: string) {
    return this.#gate(() => {
      for (const key of [...this.data.keys()]) if (key.startsWith(prefix)) this.data.delete(key)
    })
  }
  getTagVersions(tags: readonly string[]) {
    return this.#gate(() => tags.map((tag) => this.tagVersions.get(tag) ?? 0))
  }
  bumpTagVersions(tags: readonly string[]) {
    return this.#gate(() =>
      tags.map((tag) => {
        const next = (this.tagVersions.get(tag) ?? 0) + 1
        this.tagVersions.set(tag, next)
        return next
      }),
    )
  }
}
