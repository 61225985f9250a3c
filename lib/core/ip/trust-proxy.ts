import type { IPv4, IPv6 } from 'ipaddr.js';
import { formatAddress, MAX_FORWARDED_HOPS, type ParsedAddress } from './client-address.js';
import { parseIpRange, type IpRange } from './ip-range.js';

/** A header that carries the forwarded chain. */
export type TrustProxyHeader = 'x-forwarded-for' | 'forwarded' | 'x-real-ip';

export interface TrustProxyOptions {
  /**
   * Proxies whose forwarded headers are believed: IPs or CIDR ranges (v4 and v6), or the named
   * ranges 'loopback' (127.0.0.0/8, ::1), 'linklocal', 'uniquelocal' (RFC 1918 and fc00::/7) and
   * 'private' (all of them). Name exactly your proxies: 'private' trusts every RFC 1918,
   * unique-local, link-local and loopback peer as a proxy, so any client on such a network (a pod,
   * a VPN user, a neighbour on the LAN) can choose its own address with a forwarded header.
   * @example { proxies: ['loopback'] }   // a proxy on the same host
   * @example { proxies: ['10.0.3.7'] }   // the load balancer's address
   */
  proxies?: readonly string[];
  /** Alternative to `proxies`: trust exactly this many hops in front of the app (1 = the socket peer is a proxy). */
  hops?: number;
  /** Which header carries the chain. @default 'x-forwarded-for' */
  header?: 'x-forwarded-for' | 'forwarded' | 'x-real-ip';
}

/** A validated trust configuration with its ranges parsed once. */
export interface CompiledTrust {
  /** The header that carries the chain. */
  readonly header: TrustProxyHeader;
  /** The hop count in hop-count mode; null when trust is by proxy address. */
  readonly hops: number | null;
  /** Canonical text of every trusted range (`10.0.0.0/8`, `::1/128`); empty in hop-count mode. */
  readonly ranges: readonly string[];
  /** Whether an address (from `parseAddress`) is a trusted proxy. Always false in hop-count mode. */
  isTrustedProxy(address: ParsedAddress): boolean;
}

const HEADERS: readonly TrustProxyHeader[] = ['x-forwarded-for', 'forwarded', 'x-real-ip'];
const KNOWN_KEYS = new Set(['proxies', 'hops', 'header']);

const LOOPBACK = ['127.0.0.0/8', '::1/128'];
const LINKLOCAL = ['169.254.0.0/16', 'fe80::/10'];
const UNIQUELOCAL = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'];

/**
 * Named ranges. `private` is every non-public range at once: it makes every peer on an RFC 1918,
 * unique-local, link-local or loopback network a trusted proxy, so it is never what error
 * messages suggest.
 */
const NAMED_RANGES: Readonly<Record<string, readonly string[]>> = {
  loopback: LOOPBACK,
  linklocal: LINKLOCAL,
  uniquelocal: UNIQUELOCAL,
  private: [...LOOPBACK, ...LINKLOCAL, ...UNIQUELOCAL],
};
/** The names error messages suggest: `private` is left out (see NAMED_RANGES). */
const NAMES = ['loopback', 'linklocal', 'uniquelocal'].map((n) => `'${n}'`).join(', ');

/** Parses `address` or `address/prefix`; a reason string when it is not one. */
function parseRange(entry: string): IpRange | string {
  const parsed = parseIpRange(entry);
  if ('range' in parsed) return parsed.range;
  switch (parsed.problem) {
    case 'address':
      return 'is not an IP address, CIDR range or named range';
    case 'mapped-prefix':
      return 'mixes IPv4-mapped and other IPv6 addresses (write the IPv4 range instead)';
    default:
      return `has an invalid prefix length (use 0 to ${parsed.max} for ${parsed.max === 128 ? 'IPv6' : 'IPv4'})`;
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}

/**
 * Validates a trust configuration and parses its ranges. `trust` is null when the configuration is
 * absent or `false` (only the socket peer is used) or when there are problems; each problem is a
 * sentence naming the option and saying how to fix it. `optionName` is used in those sentences.
 */
export function compileTrustProxy(
  options: TrustProxyOptions | false | undefined,
  optionName = 'trustProxy',
): { trust: CompiledTrust | null; problems: string[] } {
  const problems: string[] = [];
  const fail = () => ({ trust: null, problems });
  const raw: unknown = options;
  if (raw === undefined || raw === false || raw === null) return { trust: null, problems };

  const example = `${optionName}: { proxies: ['10.0.0.0/8'] } or ${optionName}: { hops: 1 }`;
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    if (raw === true || raw === 'true' || raw === '*' || raw === 'all') {
      problems.push(
        `${optionName}: ${describe(raw)} would believe forwarded headers from any client, letting clients choose ` +
          `their own address. List your proxies or give the number of proxy hops, e.g. ${example}.`,
      );
    } else if (Array.isArray(raw)) {
      problems.push(`${optionName} must be an object; put the list under 'proxies': ${optionName}: { proxies: [...] }.`);
    } else if (typeof raw === 'number') {
      problems.push(`${optionName} must be an object; write a hop count as ${optionName}: { hops: ${raw} }.`);
    } else if (typeof raw === 'string') {
      problems.push(`${optionName} must be an object; write ${optionName}: { proxies: [${describe(raw)}] }.`);
    } else {
      problems.push(`${optionName} must be false or an object such as ${example}; got ${describe(raw)}.`);
    }
    return fail();
  }

  const opts = raw as Record<string, unknown>;
  for (const key of Object.keys(opts)) {
    if (!KNOWN_KEYS.has(key)) {
      problems.push(`${optionName}.${key} is not an option; use 'proxies', 'hops' or 'header'.`);
    }
  }

  let header: TrustProxyHeader = 'x-forwarded-for';
  if (opts.header !== undefined) {
    const h = typeof opts.header === 'string' ? opts.header.trim().toLowerCase() : undefined;
    if (h !== undefined && (HEADERS as readonly string[]).includes(h)) {
      header = h as TrustProxyHeader;
    } else {
      problems.push(`${optionName}.header ${describe(opts.header)} is not supported; use 'x-forwarded-for', 'forwarded' or 'x-real-ip'.`);
    }
  }

  const hasProxies = opts.proxies !== undefined;
  const hasHops = opts.hops !== undefined;
  if (hasProxies && hasHops) {
    problems.push(`${optionName} sets both 'proxies' and 'hops'; keep only one of them.`);
  } else if (!hasProxies && !hasHops) {
    problems.push(
      `${optionName} names no proxies; give 'proxies' or 'hops' (e.g. ${example}), or set ${optionName}: false ` + `to use only the socket address.`,
    );
  }

  let hops: number | null = null;
  if (hasHops) {
    const h = opts.hops;
    if (typeof h !== 'number' || !Number.isInteger(h) || h < 1) {
      problems.push(`${optionName}.hops must be a positive integer (1 = the socket peer is your only proxy); got ${describe(h)}.`);
    } else if (h > MAX_FORWARDED_HOPS) {
      problems.push(`${optionName}.hops is ${h}; at most ${MAX_FORWARDED_HOPS} proxy hops are supported.`);
    } else if (header === 'x-real-ip' && h !== 1) {
      problems.push(
        `${optionName}.hops must be 1 with header 'x-real-ip', which carries a single address set by the proxy ` +
          `next to the app; use 'x-forwarded-for' or 'forwarded' for longer chains.`,
      );
    } else {
      hops = h;
    }
  }

  const v4: Array<[IPv4, number]> = [];
  const v6: Array<[IPv6, number]> = [];
  const ranges: string[] = [];
  if (hasProxies) {
    const list = opts.proxies;
    if (!Array.isArray(list)) {
      problems.push(
        `${optionName}.proxies must be an array of addresses, CIDR ranges or named ranges; got ${describe(list)}. ` + `Write e.g. proxies: ['10.0.0.0/8'].`,
      );
    } else if (list.length === 0) {
      problems.push(
        `${optionName}.proxies is empty; list your proxies (e.g. proxies: ['10.0.0.0/8']), or set ` + `${optionName}: false to use only the socket address.`,
      );
    } else {
      list.forEach((item: unknown, index: number) => {
        const where = `${optionName}.proxies[${index}]`;
        if (typeof item !== 'string') {
          problems.push(`${where} must be a string such as '10.0.0.1', '10.0.0.0/8' or 'loopback'; got ${describe(item)}.`);
          return;
        }
        const entry = item.trim();
        const named = NAMED_RANGES[entry.toLowerCase()];
        const texts = Object.prototype.hasOwnProperty.call(NAMED_RANGES, entry.toLowerCase()) ? named! : [entry];
        for (const text of texts) {
          const range = parseRange(text);
          if (typeof range === 'string') {
            problems.push(
              `${where} '${item}' ${range}. Write an address ('10.0.0.1', '2001:db8::1'), a range ('10.0.0.0/8', ` + `'fd00::/8') or one of ${NAMES}.`,
            );
            continue;
          }
          const [address, bits] = range;
          if (bits === 0) {
            problems.push(
              `${where} '${item}' matches every address, so any client could choose its own address. ` + `List only your proxies' addresses or ranges.`,
            );
            continue;
          }
          if (address.kind() === 'ipv4') v4.push([address as IPv4, bits]);
          else v6.push([address as IPv6, bits]);
          ranges.push(`${formatAddress(address)}/${bits}`);
        }
      });
    }
  }

  if (problems.length > 0) return fail();

  const isTrustedProxy =
    hops !== null
      ? () => false
      : (address: ParsedAddress): boolean => {
          if (address.kind() === 'ipv4') {
            for (let i = 0; i < v4.length; i++) if ((address as IPv4).match(v4[i]![0], v4[i]![1])) return true;
          } else {
            for (let i = 0; i < v6.length; i++) if ((address as IPv6).match(v6[i]![0], v6[i]![1])) return true;
          }
          return false;
        };

  const trust: CompiledTrust = Object.freeze({ header, hops, ranges: Object.freeze(ranges), isTrustedProxy });
  return { trust, problems };
}
