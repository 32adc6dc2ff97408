/**
 * Which upstream addresses an admin-made provider may reach. Addresses are parsed to bytes
 * (never matched as strings), so odd spellings (127.1, 0x7f000001, ::ffff:7f00:1) cannot slip by;
 * host names go through the WHATWG URL parser first, which already canonicalises IPv4 spellings.
 */
import { isIPv4, isIPv6 } from 'node:net'

/** [first address, prefix length, why] for IPv4. */
const V4_BLOCKED: [number[], number, string][] = [
  [[0, 0, 0, 0], 8, 'unspecified'],
  [[10, 0, 0, 0], 8, 'private'],
  [[100, 64, 0, 0], 10, 'shared (CGNAT)'],
  [[127, 0, 0, 0], 8, 'loopback'],
  [[169, 254, 0, 0], 16, 'link-local / cloud metadata'],
  [[172, 16, 0, 0], 12, 'private'],
  [[192, 0, 0, 0], 24, 'IETF protocol assignments'],
  [[192, 0, 2, 0], 24, 'documentation'],
  [[192, 88, 99, 0], 24, '6to4 relay'],
  [[192, 168, 0, 0], 16, 'private'],
  [[198, 18, 0, 0], 15, 'benchmarking'],
  [[198, 51, 100, 0], 24, 'documentation'],
  [[203, 0, 113, 0], 24, 'documentation'],
  [[224, 0, 0, 0], 4, 'multicast'],
  [[240, 0, 0, 0], 4, 'reserved / broadcast'],
]

const V6_BLOCKED: [number[], number, string][] = [
  [[0, 0, 0, 0, 0, 0, 0, 0], 128, 'unspecified'],
  [[0, 0, 0, 0, 0, 0, 0, 1], 128, 'loopback'],
  [[0x64, 0xff9b, 0, 0, 0, 0, 0, 0], 96, 'NAT64'],
  [[0x64, 0xff9b, 1, 0, 0, 0, 0, 0], 48, 'NAT64 (local)'],
  [[0x100, 0, 0, 0, 0, 0, 0, 0], 64, 'discard'],
  [[0x2001, 0, 0, 0, 0, 0, 0, 0], 32, 'Teredo'],
  [[0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 32, 'documentation'],
  [[0xfc00, 0, 0, 0, 0, 0, 0, 0], 7, 'unique local (fd00:ec2::254 is cloud metadata)'],
  [[0xfe80, 0, 0, 0, 0, 0, 0, 0], 10, 'link-local'],
  [[0xfec0, 0, 0, 0, 0, 0, 0, 0], 10, 'site-local'],
  [[0xff00, 0, 0, 0, 0, 0, 0, 0], 8, 'multicast'],
]

/** Host names that are internal by definition, whatever they resolve to. */
const BLOCKED_NAMES = /^(localhost|metadata|metadata\.goog|metadata\.google\.internal|instance-data|instance-data\.ec2\.internal)$|\.(localhost|internal|local|localdomain|home\.arpa)$/

function inPrefix(bits: number[], width: number, base: number[], prefix: number): boolean {
  for (let i = 0, left = prefix; left > 0; i++, left -= width) {
    const take = Math.min(width, left)
    const mask = ((1 << take) - 1) << (width - take)
    if ((bits[i]! & mask) !== (base[i]! & mask)) return false
  }
  return true
}

/** An IPv6 text (any valid spelling, dotted tail included) as eight 16-bit groups. */
export function parseIPv6(text: string): number[] | undefined {
  let s = text.replace(/^\[|\]$/g, '').replace(/%.*$/, '')
  if (!isIPv6(s)) return undefined
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(s)
  if (dotted) {
    const b = dotted[1]!.split('.').map(Number)
    s = s.slice(0, -dotted[1]!.length) + `${((b[0]! << 8) | b[1]!).toString(16)}:${((b[2]! << 8) | b[3]!).toString(16)}`
  }
  const [head, tail] = s.includes('::') ? s.split('::') : [s, undefined]
  const a = head ? head.split(':') : []
  const b = tail === undefined ? [] : tail ? tail.split(':') : []
  const fill = tail === undefined ? [] : new Array(8 - a.length - b.length).fill('0')
  const groups = [...a, ...fill, ...b].map((g) => parseInt(g, 16))
  return groups.length === 8 ? groups : undefined
}

/** Why an IP address is not a public upstream, or undefined when it is. Not an IP: "not an IP address". */
export function forbiddenAddress(ip: string): string | undefined {
  if (isIPv4(ip)) {
    const bytes = ip.split('.').map(Number)
    for (const [base, prefix, why] of V4_BLOCKED) if (inPrefix(bytes, 8, base, prefix)) return `${ip} is ${why}`
    return undefined
  }
  const g = parseIPv6(ip)
  if (!g) return `${ip} is not an IP address`
  // IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d) and 6to4 (2002:AABB:CCDD::) carry an IPv4 address.
  const embedded =
    g.slice(0, 5).every((x) => x === 0) && (g[5] === 0xffff || g[5] === 0) && (g[6] !== 0 || g[7]! > 1)
      ? [g[6]! >> 8, g[6]! & 255, g[7]! >> 8, g[7]! & 255]
      : g[0] === 0x2002
        ? [g[1]! >> 8, g[1]! & 255, g[2]! >> 8, g[2]! & 255]
        : undefined
  if (embedded) {
    const why = forbiddenAddress(embedded.join('.'))
    if (why) return `${ip} embeds ${why}`
  }
  for (const [base, prefix, why] of V6_BLOCKED) if (inPrefix(g, 16, base, prefix)) return `${ip} is ${why}`
  return undefined
}

/** The URL's host as the WHATWG parser canonicalised it: an IP (IPv6 without brackets) or a lower-case name. */
export function canonicalHost(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '')
}

/** Why a host (before DNS) is refused: an IP literal that is not public, or an internal name. */
export function forbiddenHost(host: string): string | undefined {
  if (isIPv4(host) || isIPv6(host)) return forbiddenAddress(host)
  if (BLOCKED_NAMES.test(host)) return `${host} is an internal host name`
  return undefined
}
