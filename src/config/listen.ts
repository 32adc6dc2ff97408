/** `HOST:PORT` listen addresses (`[server] listen`, `[metrics] listen`); an IPv6 host may be bracketed. */

/** The host (brackets removed; empty means every interface, 0.0.0.0) and port of `HOST:PORT`. */
export function parseListen(listen: string): { hostname: string; port: number } {
  const at = listen.lastIndexOf(':')
  const hostname = listen.slice(0, at).replace(/^\[|\]$/g, '') || '0.0.0.0'
  return { hostname, port: Number(listen.slice(at + 1)) }
}
