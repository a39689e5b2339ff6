/**
 * Which IP addresses a download may connect to, and the operator's host rules. Addresses are judged
 * as bytes, so every spelling of one address (IPv4-mapped IPv6, NAT64, 6to4) meets the same rule.
 * Plain TypeScript; node:net only validates the text.
 */
import { isIP, isIPv4 } from 'node:net';

export interface IpAddress {
  family: 4 | 6;
  bytes: Uint8Array;
}

interface Range {
  family: 4 | 6;
  prefix: Uint8Array;
  bits: number;
}

/** An IPv4 dotted quad or an IPv6 address (brackets allowed, no zone id), else undefined. */
export function parseIp(text: string): IpAddress | undefined {
  const plain = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  const family = isIP(plain);
  if (family === 4) return { family: 4, bytes: new Uint8Array(plain.split('.').map(Number)) };
  if (family === 6 && !plain.includes('%')) return { family: 6, bytes: ipv6Bytes(plain) };
  return undefined;
}

/** The 16 bytes of a valid IPv6 text (checked by isIP first): `::` expanded, a trailing dotted quad folded in. */
function ipv6Bytes(text: string): Uint8Array {
  let body = text;
  let tail: number[] = [];
  const lastColon = body.lastIndexOf(':');
  if (isIPv4(body.slice(lastColon + 1))) {
    tail = body.slice(lastColon + 1).split('.').map(Number);
    body = `${body.slice(0, lastColon + 1)}0:0`;
  }
  const [head = '', rest] = body.split('::');
  const groups = (part: string): number[] => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const front = groups(head);
  const back = rest === undefined ? [] : groups(rest);
  const words = [...front, ...new Array<number>(8 - front.length - back.length).fill(0), ...back];
  const bytes = new Uint8Array(16);
  words.forEach((word, i) => {
    bytes[i * 2] = word >> 8;
    bytes[i * 2 + 1] = word & 0xff;
  });
  if (tail.length === 4) bytes.set(tail, 12);
  return bytes;
}

/** `a.b.c.d/n` or `v6::/n`; a bare address is a /32 or /128. */
export function parseCidr(text: string): Range | undefined {
  const [address = '', bitsText, extra] = text.split('/');
  const ip = parseIp(address);
  if (!ip || extra !== undefined) return undefined;
  const max = ip.family === 4 ? 32 : 128;
  const bits = bitsText === undefined ? max : /^\d{1,3}$/.test(bitsText) ? Number(bitsText) : NaN;
  if (!(bits >= 0 && bits <= max)) return undefined;
  return { family: ip.family, prefix: ip.bytes, bits };
}

function inRange(ip: IpAddress, range: Range): boolean {
  if (ip.family !== range.family) return false;
  const whole = Math.floor(range.bits / 8);
  for (let i = 0; i < whole; i++) if (ip.bytes[i] !== range.prefix[i]) return false;
  const rest = range.bits % 8;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return ((ip.bytes[whole] ?? 0) & mask) === ((range.prefix[whole] ?? 0) & mask);
}

const range = (cidr: string): Range => parseCidr(cidr) as Range;

const MAPPED = range('::ffff:0:0/96');

/** `::ffff:a.b.c.d` as the IPv4 address it is; any other address as it is. */
export function unmapped(ip: IpAddress): IpAddress {
  return inRange(ip, MAPPED) ? { family: 4, bytes: ip.bytes.slice(12) } : ip;
}

/** Ranges no download may reach unless the operator allows them; each with the words a refusal uses. */
const REFUSED_V4: ReadonlyArray<[Range, string]> = [
  [range('0.0.0.0/8'), 'unspecified ("this network") 0.0.0.0/8'],
  [range('10.0.0.0/8'), 'private 10.0.0.0/8'],
  [range('100.64.0.0/10'), 'carrier-grade NAT 100.64.0.0/10'],
  [range('127.0.0.0/8'), 'loopback 127.0.0.0/8'],
  [range('169.254.0.0/16'), 'link-local 169.254.0.0/16 (cloud metadata lives at 169.254.169.254)'],
  [range('172.16.0.0/12'), 'private 172.16.0.0/12'],
  [range('192.0.0.0/24'), 'IETF protocol assignments 192.0.0.0/24'],
  [range('192.0.2.0/24'), 'documentation 192.0.2.0/24'],
  [range('192.168.0.0/16'), 'private 192.168.0.0/16'],
  [range('198.18.0.0/15'), 'benchmarking 198.18.0.0/15'],
  [range('198.51.100.0/24'), 'documentation 198.51.100.0/24'],
  [range('203.0.113.0/24'), 'documentation 203.0.113.0/24'],
  [range('224.0.0.0/4'), 'multicast 224.0.0.0/4'],
  [range('240.0.0.0/4'), 'reserved 240.0.0.0/4 (and broadcast)'],
];

const REFUSED_V6: ReadonlyArray<[Range, string]> = [
  [range('::/128'), 'unspecified ::'],
  [range('::1/128'), 'loopback ::1'],
  [range('::/96'), 'IPv4-compatible ::/96 (deprecated)'],
  [range('64:ff9b:1::/48'), 'local-use NAT64 64:ff9b:1::/48'],
  [range('100::/64'), 'discard-only 100::/64'],
  [range('2001::/32'), 'Teredo 2001::/32'],
  [range('2001:db8::/32'), 'documentation 2001:db8::/32'],
  [range('fc00::/7'), 'unique-local fc00::/7'],
  [range('fe80::/10'), 'link-local fe80::/10'],
  [range('fec0::/10'), 'site-local fec0::/10 (deprecated)'],
  [range('ff00::/8'), 'multicast ff00::/8'],
];

/** IPv6 forms that carry an IPv4 address, and where its 4 bytes sit: judged as that IPv4 address. */
const EMBEDDING_V4: ReadonlyArray<[Range, number, string]> = [
  [MAPPED, 12, 'IPv4-mapped'],
  [range('64:ff9b::/96'), 12, 'NAT64'],
  [range('2002::/16'), 2, '6to4'],
];

/** Why no download may connect to `ip` (the refused range, in words), or undefined for a public address. */
export function refusedRange(ip: IpAddress): string | undefined {
  if (ip.family === 4) return REFUSED_V4.find(([r]) => inRange(ip, r))?.[1];
  for (const [r, at, form] of EMBEDDING_V4) {
    if (!inRange(ip, r)) continue;
    const inner = refusedRange({ family: 4, bytes: ip.bytes.slice(at, at + 4) });
    return inner === undefined ? undefined : `${form} form of ${inner}`;
  }
  return REFUSED_V6.find(([r]) => inRange(ip, r))?.[1];
}

/**
 * Names that reach a cloud's metadata service or this host whatever DNS says (RFC 6761 `localhost`),
 * refused before they are resolved.
 */
const REFUSED_NAMES = /^(localhost|.+\.localhost|metadata|metadata\.google\.internal|metadata\.goog|instance-data|instance-data\.ec2\.internal)\.?$/;

export function isRefusedName(hostname: string): boolean {
  return REFUSED_NAMES.test(hostname.toLowerCase());
}

const HOSTNAME = /^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*$/;

/**
 * An operator's list of hosts: exact host names (case-insensitive), IP addresses and CIDR ranges.
 * Built from configuration, so a malformed entry is an error naming it.
 */
export class HostRules {
  private readonly names = new Set<string>();
  private readonly ranges: Range[] = [];

  constructor(readonly entries: readonly string[]) {
    for (const raw of entries) {
      const entry = raw.trim().toLowerCase();
      const cidr = parseCidr(entry);
      if (cidr) this.ranges.push(cidr);
      else if (HOSTNAME.test(entry)) this.names.add(entry);
      else throw new Error(`"${raw}" is not a host name, an IP address or a CIDR range`);
    }
  }

  /** Whether a URL's host (a name, or an IP literal in brackets or not) is listed. */
  hasHost(hostname: string): boolean {
    const host = hostname.toLowerCase().replace(/\.$/, '');
    const ip = parseIp(host);
    return ip ? this.hasAddress(ip) : this.names.has(host);
  }

  /** An IPv4-mapped IPv6 address matches the IPv4 entries too: it is the same host. */
  hasAddress(ip: IpAddress): boolean {
    const plain = unmapped(ip);
    return this.ranges.some((r) => inRange(ip, r) || inRange(plain, r));
  }
}

/** The entries of a list that are not host names, IP addresses or CIDR ranges (for configuration errors). */
export function invalidHostEntries(entries: readonly string[]): string[] {
  return entries.filter((entry) => {
    try {
      new HostRules([entry]);
      return false;
    } catch {
      return true;
    }
  });
}
