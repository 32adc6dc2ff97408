/**
 * The address a request comes from, for per-address limits: the socket's peer, or, when that
 * peer is one of `[server] trusted_proxies`, the rightmost X-Forwarded-For hop that is not a
 * trusted proxy (hops to its left are whatever the client wrote, so they are never believed).
 */
import { BlockList, isIP } from 'node:net'
import { parseIPv6 } from '../net/address-policy'
import { peerAddress, type PeerSource } from '../net/peers'

export type { PeerSource }

/** Requests that reach the app without a socket (app.handle in-process) share this address. */
export const NO_PEER = 'unknown'

export class TrustedProxies {
  private readonly list = new BlockList()
  readonly empty: boolean

  /** `cidrs`: addresses or CIDR ranges, IPv4 or IPv6 (validated by the config schema). */
  constructor(cidrs: readonly string[]) {
    for (const c of cidrs) {
      const [addr, bits] = c.split('/') as [string, string | undefined]
      const family = isIP(addr) === 6 ? 'ipv6' : 'ipv4'
      if (bits === undefined) this.list.addAddress(addr, family)
      else this.list.addSubnet(addr, Number(bits), family)
    }
    this.empty = cidrs.length === 0
  }

  has(address: string): boolean {
    const family = isIP(address)
    return family !== 0 && this.list.check(address, family === 6 ? 'ipv6' : 'ipv4')
  }
}


export function clientAddress(request: Request, server: PeerSource | null | undefined, trusted: TrustedProxies): string {
  // Through the TLS / HTTP/2 front listener, the front's client (src/net/peers.ts).
  const peer = unmap(peerAddress(request, server))
  if (!peer) return NO_PEER
  if (trusted.empty || !trusted.has(peer)) return peer
  const hops = (request.headers.get('x-forwarded-for') ?? '').split(',').map((h) => unmap(h.trim()))
  let client = peer
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i]!
    // A hop that is no address was not written by a trusted proxy: the last good one stands.
    if (!isIP(hop)) break
    client = hop
    if (!trusted.has(hop)) break
  }
  return client
}

/** `::ffff:192.0.2.1` is the IPv4 client 192.0.2.1 (dual-stack sockets report it so). */
function unmap(address: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)
  return m ? m[1]! : address
}

/**
 * The key limits count under: an IPv4 address, or an IPv6 address's /64 (one host usually holds
 * a whole /64, so counting single IPv6 addresses would let it start afresh at will).
 */
export function limitKey(address: string): string {
  if (isIP(address) !== 6) return address
  const g = parseIPv6(address)
  return g ? `${g.slice(0, 4).map((x) => x.toString(16)).join(':')}::/64` : address
}
