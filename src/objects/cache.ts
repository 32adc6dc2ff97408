/**
 * A bounded least-recently-used map (a Map keeps insertion order: a hit moves its key to the
 * end, the first key is the oldest). Keys and values are small and bounded (ids ≤ 256 bytes),
 * so the entry bound also bounds the bytes.
 */
export class LruMap<V> {
  private map = new Map<string, V>()

  constructor(private readonly max: number) {}

  get(key: string): V | undefined {
    const v = this.map.get(key)
    if (v === undefined) return undefined
    this.map.delete(key)
    this.map.set(key, v)
    return v
  }

  set(key: string, value: V): void {
    this.map.delete(key)
    this.map.set(key, value)
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value!)
  }

  delete(key: string): void {
    this.map.delete(key)
  }

  get size(): number {
    return this.map.size
  }
}
