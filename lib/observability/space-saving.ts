/**
 * Counts of the most frequent keys in bounded memory (the Space-Saving algorithm, Metwally et al.
 * 2005): at most `capacity` keys are kept; when full, a new key replaces the key with the smallest
 * count and takes that count + 1. Counts are exact while no more than `capacity` distinct keys were
 * counted; past that, a kept key's count is over by at most the smallest count, and every key
 * counted more than total / `capacity` times is kept, however late it first came.
 *
 * The keys sit in a binary min-heap on their counts, so each count costs O(log capacity).
 */
export class SpaceSaving {
  private readonly keys: string[] = [];
  private readonly counts: number[] = [];
  /** Each key's place in the heap. */
  private readonly places = new Map<string, number>();

  constructor(private readonly capacity: number) {}

  /** Counts one more of `key`. */
  add(key: string): void {
    const place = this.places.get(key);
    if (place !== undefined) {
      this.counts[place]++;
      this.down(place);
    } else if (this.keys.length < this.capacity) {
      this.keys.push(key);
      this.counts.push(1);
      this.places.set(key, this.keys.length - 1);
      this.up(this.keys.length - 1);
    } else if (this.capacity > 0) {
      this.places.delete(this.keys[0]);
      this.keys[0] = key;
      this.counts[0]++;
      this.places.set(key, 0);
      this.down(0);
    }
  }

  /** The `top` keys with the highest counts, most first (ties by key). */
  top(top: number): [string, number][] {
    return this.keys
      .map((key, i): [string, number] => [key, this.counts[i]])
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, top);
  }

  private up(place: number): void {
    while (place > 0) {
      const parent = (place - 1) >> 1;
      if (this.counts[parent] <= this.counts[place]) return;
      this.swap(place, parent);
      place = parent;
    }
  }

  private down(place: number): void {
    const n = this.keys.length;
    for (;;) {
      const left = 2 * place + 1;
      const right = left + 1;
      let least = place;
      if (left < n && this.counts[left] < this.counts[least]) least = left;
      if (right < n && this.counts[right] < this.counts[least]) least = right;
      if (least === place) return;
      this.swap(place, least);
      place = least;
    }
  }

  private swap(a: number, b: number): void {
    const key = this.keys[a];
    const count = this.counts[a];
    this.keys[a] = this.keys[b];
    this.counts[a] = this.counts[b];
    this.keys[b] = key;
    this.counts[b] = count;
    this.places.set(this.keys[a], a);
    this.places.set(key, b);
  }
}
