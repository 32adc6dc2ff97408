/**
 * A cache bounded in entries and in key size, for caches keyed by what clients send (model
 * names, label values): the oldest entries go first, and a key too long to be worth keeping
 * is never stored. Sizes count UTF-16 code units twice, as the engine may hold them.
 */
export class BoundedMap<V> {
  private map = new Map<string, V>()
  private held = 0

  constructor(
    readonly maxEntries: number,
    readonly maxBytes: number,
    /** Keys longer than this (in characters) are not cached at all. */
    readonly maxKeyChars = 1024,
  ) {}

  get size(): number {
    return this.map.size
  }

  /** Bytes of keys held (2 per character). */
  get bytes(): number {
    return this.held
  }

  has(key: string): boolean {
    return this.map.has(key)
  }

  get(key: string): V | undefined {
    return this.map.get(key)
  }

  set(key: string, value: V): void {
    if (key.length > this.maxKeyChars) return
    if (this.map.has(key)) {
      this.map.set(key, value)
      return
    }
    this.map.set(key, value)
    this.held += key.length * 2
    while (this.map.size > this.maxEntries || this.held > this.maxBytes) {
      const oldest = this.map.keys().next().value as string
      this.map.delete(oldest)
      this.held -= oldest.length * 2
    }
  }

  clear(): void {
    this.map.clear()
    this.held = 0
  }
}
