/**
 * A map that keeps the `maxSize` keys set most recently: setting a key makes it the newest, and the
 * oldest is forgotten once the map is full. What the store remembers per key stays bounded however
 * many clients it sees.
 */
export class RecentKeysMap<V> extends Map<string, V> {
  constructor(private readonly maxSize: number) {
    super();
  }

  /** Sets `key` as the newest entry, forgetting the oldest when over `maxSize`. */
  remember(key: string, value: V): void {
    this.delete(key);
    this.set(key, value);
    if (this.size > this.maxSize) this.delete(this.keys().next().value as string);
  }
}
