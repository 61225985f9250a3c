/** Bits per key a layer is sized for: with 10 probes, about 1 false positive in 2 000 at capacity. */
const BITS_PER_KEY = 16;
const PROBES = 10;
const MIN_LAYER_BITS = 2 ** 15;
/** One layer is at most 16 MiB; past that the last layer takes every key, at a rising false-positive rate. */
const MAX_LAYER_BITS = 2 ** 27;
/** At most 32 MiB in all. */
const MAX_TOTAL_BITS = 2 ** 28;

interface Layer {
  readonly words: Uint32Array;
  readonly mask: number;
  /** Keys it is sized for. */
  readonly capacity: number;
  added: number;
}

/**
 * A Bloom filter of keys: `mightHold` is never false for a key added, and true for a key never
 * added with a small probability. It tells which clients may have a ban the cache does not hold as
 * a record, in about 2 bytes per key, without keeping the keys. Sized for `expectedKeys`, it grows
 * by adding a layer four times larger when a layer is full (so a first load of unknown size works),
 * up to 32 MiB. Keys are never removed: each full reload builds a new filter.
 */
export class KeyFilter {
  private readonly layers: Layer[] = [];
  private bits = 0;
  private added = 0;
  private settledLayers = 1;

  constructor(expectedKeys: number) {
    this.addLayer(Math.max(1, expectedKeys));
  }

  /** Distinct keys added (as far as the filter can tell). */
  get count(): number {
    return this.added;
  }

  /** Bytes it holds. */
  get bytes(): number {
    return this.bits / 8;
  }

  /** Whether it had to grow since `settle` (the next full reload builds one to size). */
  get saturated(): boolean {
    return this.layers.length > this.settledLayers;
  }

  /** Takes its present size as the one it was built for (a first load of unknown size grows it). */
  settle(): void {
    this.settledLayers = this.layers.length;
  }

  add(key: string): void {
    const [h1, h2] = hashes(key);
    if (this.probe(h1, h2)) return;
    let layer = this.layers[this.layers.length - 1]!;
    if (layer.added >= layer.capacity && this.bits < MAX_TOTAL_BITS) layer = this.addLayer(layer.capacity * 4);
    for (let i = 0; i < PROBES; i++) {
      const bit = (h1 + Math.imul(i, h2)) & layer.mask;
      layer.words[bit >>> 5]! |= 1 << (bit & 31);
    }
    layer.added++;
    this.added++;
  }

  mightHold(key: string): boolean {
    if (this.added === 0) return false;
    const [h1, h2] = hashes(key);
    return this.probe(h1, h2);
  }

  private probe(h1: number, h2: number): boolean {
    for (const layer of this.layers) {
      let all = true;
      for (let i = 0; i < PROBES; i++) {
        const bit = (h1 + Math.imul(i, h2)) & layer.mask;
        if ((layer.words[bit >>> 5]! & (1 << (bit & 31))) === 0) {
          all = false;
          break;
        }
      }
      if (all) return true;
    }
    return false;
  }

  private addLayer(capacity: number): Layer {
    let bits = MIN_LAYER_BITS;
    while (bits < capacity * BITS_PER_KEY && bits < MAX_LAYER_BITS) bits *= 2;
    const layer: Layer = { words: new Uint32Array(bits / 32), mask: bits - 1, capacity: Math.floor(bits / BITS_PER_KEY), added: 0 };
    this.layers.push(layer);
    this.bits += bits;
    return layer;
  }
}

const pair: [number, number] = [0, 0];

/** Two 32-bit hashes of `key` (FNV-1a and a multiply-xorshift one), for double hashing. Reuses one array. */
function hashes(key: string): [number, number] {
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 13;
  }
  a ^= a >>> 16;
  a = Math.imul(a, 0x85ebca6b);
  a ^= a >>> 13;
  pair[0] = a >>> 0;
  // Odd, so that the probes of one key never repeat within a power-of-two layer.
  pair[1] = (b | 1) >>> 0;
  return pair;
}
