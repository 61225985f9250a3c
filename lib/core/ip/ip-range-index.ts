import type { IPv4, IPv6 } from 'ipaddr.js';

import type { ParsedAddress } from './client-address.js';
import type { IpRange } from './ip-range.js';

interface TrieNode<T> {
  zero?: TrieNode<T>;
  one?: TrieNode<T>;
  /** Items whose range ends at this node, by id. */
  items?: Map<string, T>;
}

/**
 * Ranges (parsed by `parseIpRange`, the one CIDR parser) in a binary prefix trie per address
 * family, so that finding the ranges holding an address walks at most 32 (IPv4) or 128 (IPv6)
 * nodes, and in practice stops where the stored prefixes stop, whatever their number. A range
 * matches exactly the addresses `inIpRange` says it does: same family (IPv4-mapped ranges and
 * addresses are IPv4 once parsed), same leading `prefix` bits.
 */
export class IpRangeIndex<T> {
  private readonly ipv4: TrieNode<T> = {};
  private readonly ipv6: TrieNode<T> = {};
  private readonly byId = new Map<string, { readonly range: IpRange; readonly item: T }>();

  get size(): number {
    return this.byId.size;
  }

  ids(): IterableIterator<string> {
    return this.byId.keys();
  }

  /** Every item, in no particular order. */
  *values(): IterableIterator<T> {
    for (const { item } of this.byId.values()) yield item;
  }

  /** Adds or replaces the item of `id`. */
  set(id: string, range: IpRange, item: T): void {
    this.delete(id);
    this.byId.set(id, { range, item });
    const node = this.walk(range, true)!;
    (node.items ??= new Map()).set(id, item);
  }

  delete(id: string): boolean {
    const found = this.byId.get(id);
    if (found === undefined) return false;
    this.byId.delete(id);
    const path = this.path(found.range);
    const end = path[path.length - 1]!;
    end.items?.delete(id);
    if (end.items?.size === 0) delete end.items;
    // Prunes the branch it leaves empty.
    for (let i = path.length - 1; i > 0; i--) {
      const node = path[i]!;
      if (node.items || node.zero || node.one) break;
      const parent = path[i - 1]!;
      if (parent.zero === node) delete parent.zero;
      else delete parent.one;
    }
    return true;
  }

  /** Pushes onto `out` every item whose range holds `address`, shortest prefix first; returns `out`. */
  collect(address: ParsedAddress, out: T[]): T[] {
    const v4 = address.kind() === 'ipv4';
    let node: TrieNode<T> | undefined = v4 ? this.ipv4 : this.ipv6;
    const words = v4 ? (address as IPv4).octets : (address as IPv6).parts;
    const width = v4 ? 8 : 16;
    const bits = v4 ? 32 : 128;
    for (let bit = 0; node !== undefined; bit++) {
      if (node.items !== undefined) for (const item of node.items.values()) out.push(item);
      if (bit === bits) break;
      node = bitAt(words, width, bit) === 1 ? node.one : node.zero;
    }
    return out;
  }

  private walk(range: IpRange, create: boolean): TrieNode<T> | undefined {
    const [network, prefix] = range;
    const v4 = network.kind() === 'ipv4';
    const words = v4 ? (network as IPv4).octets : (network as IPv6).parts;
    const width = v4 ? 8 : 16;
    let node: TrieNode<T> = v4 ? this.ipv4 : this.ipv6;
    for (let bit = 0; bit < prefix; bit++) {
      const side = bitAt(words, width, bit) === 1 ? 'one' : 'zero';
      let next = node[side];
      if (next === undefined) {
        if (!create) return undefined;
        next = node[side] = {};
      }
      node = next;
    }
    return node;
  }

  private path(range: IpRange): TrieNode<T>[] {
    const [network, prefix] = range;
    const v4 = network.kind() === 'ipv4';
    const words = v4 ? (network as IPv4).octets : (network as IPv6).parts;
    const width = v4 ? 8 : 16;
    let node: TrieNode<T> | undefined = v4 ? this.ipv4 : this.ipv6;
    const path: TrieNode<T>[] = [node];
    for (let bit = 0; bit < prefix && node !== undefined; bit++) {
      node = bitAt(words, width, bit) === 1 ? node.one : node.zero;
      if (node !== undefined) path.push(node);
    }
    return path;
  }
}

/** Bit `bit` (0 = the most significant) of an address held as `width`-bit words. */
function bitAt(words: readonly number[], width: number, bit: number): number {
  return (words[(bit / width) | 0]! >> (width - 1 - (bit % width))) & 1;
}
