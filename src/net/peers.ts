/**
 * The client's address for requests that came through the front listener (src/net/front.ts),
 * where Bun.serve's requestIP() would name the front itself: HTTP/2 requests are registered
 * by the bridge, HTTP/1.1 connections by the loopback port they reach Bun.serve from.
 */
import type { SocketAddress } from 'bun'

/** HTTP/2 requests (built by src/net/h2-bridge.ts) → the client's address. */
export const h2Peers = new WeakMap<Request, string>()
/** The front's local port of each piped HTTP/1.1 connection to Bun.serve → the client's address. */
export const http1Peers = new Map<number, string>()

/** The part of Bun's server the socket address comes from (Elysia's context `server`). */
export interface PeerSource {
  requestIP(request: Request): Pick<SocketAddress, 'address'> & { port?: number } | null
}

/** The address of the client that sent `request`, or '' when no socket is known (in-process). */
export function peerAddress(request: Request, server: PeerSource | null | undefined): string {
  const viaH2 = h2Peers.get(request)
  if (viaH2) return viaH2
  const ip = server?.requestIP(request)
  if (!ip) return ''
  return (ip.port !== undefined && http1Peers.get(ip.port)) || ip.address
}
