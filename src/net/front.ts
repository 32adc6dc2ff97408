/**
 * The front listener for TLS and HTTP/2 (Bun.serve speaks neither HTTP/2 nor reloads its
 * certificate). It owns the public port: TLS is ended here (node:tls, ALPN h2 / http/1.1, the
 * certificate swapped in place on reload); HTTP/2 connections (ALPN "h2", or the h2c preface
 * in clear text) go to the HTTP/2 bridge; HTTP/1.1 connections are piped byte for byte to the
 * gateway's own Bun.serve on a loopback port, so HTTP/1.1 keeps Bun's parser and limits.
 */
import net from 'node:net'
import tls from 'node:tls'
import type { Http2Server } from 'node:http2'
import { http1Peers } from './peers'

/** What every HTTP/2 prior-knowledge connection starts with (RFC 9113 §3.4). */
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n')

export interface FrontOptions {
  hostname: string
  port: number
  /** The loopback port of the Bun.serve HTTP/1.1 connections are piped to. */
  http1Port: number
  /** The HTTP/2 server connections are handed to; absent when `[server] http2` is off. */
  h2?: Http2Server
  tls?: { cert: string; key: string }
  /** How long a clear-text connection may take to send its first bytes. */
  idleTimeoutMs: number
}

export interface Front {
  port: number
  /** Puts a new certificate in place for new handshakes; open connections keep theirs. */
  setCertificate(cert: string, key: string): void
  /** Stops accepting; open connections keep going. */
  close(): void
  /** Closes every connection still open. */
  destroyAll(): void
}

export async function startFront(opts: FrontOptions): Promise<Front> {
  const sockets = new Set<net.Socket>()
  const track = (s: net.Socket) => {
    sockets.add(s)
    s.once('close', () => sockets.delete(s))
    s.on('error', () => s.destroy())
  }
  const toHttp1 = (client: net.Socket, head?: Buffer) => {
    const inner = net.connect({ host: '127.0.0.1', port: opts.http1Port })
    track(inner)
    client.once('close', () => inner.destroy())
    inner.once('close', () => client.destroy())
    inner.once('connect', () => {
      // Bun.serve sees this connection's port: it stands for the client (src/net/peers.ts).
      const port = inner.localPort
      if (port !== undefined && client.remoteAddress) {
        http1Peers.set(port, client.remoteAddress)
        inner.once('close', () => http1Peers.get(port) === client.remoteAddress && http1Peers.delete(port))
      }
      if (head) inner.write(head)
      client.pipe(inner).pipe(client)
    })
  }
  const toH2 = (client: net.Socket) => opts.h2!.emit('connection', client)

  let server: net.Server | tls.Server
  if (opts.tls) {
    const ALPNProtocols = opts.h2 ? ['h2', 'http/1.1'] : ['http/1.1']
    const secure = tls.createServer({ cert: opts.tls.cert, key: opts.tls.key, ALPNProtocols })
    secure.on('secureConnection', (s: tls.TLSSocket) => {
      track(s)
      if (opts.h2 && s.alpnProtocol === 'h2') toH2(s)
      else toHttp1(s)
    })
    // A failed handshake (a client that does not trust the certificate, a port scan) is that client's problem.
    secure.on('tlsClientError', (_e, s) => s.destroy())
    server = secure
  } else {
    server = net.createServer((s) => {
      track(s)
      // The first bytes decide: the HTTP/2 preface, or anything else as HTTP/1.1.
      let head = Buffer.alloc(0)
      const onData = (chunk: Buffer) => {
        head = Buffer.concat([head, chunk])
        const n = Math.min(head.length, PREFACE.length)
        const maybeH2 = head.subarray(0, n).equals(PREFACE.subarray(0, n))
        if (maybeH2 && head.length < PREFACE.length) return
        s.off('data', onData)
        s.setTimeout(0)
        s.pause()
        if (maybeH2) {
          s.unshift(head)
          toH2(s)
          s.resume()
        } else {
          toHttp1(s, head)
          s.resume()
        }
      }
      if (opts.h2) {
        s.on('data', onData)
        // A connection that never says which protocol it speaks must not hold a descriptor forever.
        s.setTimeout(opts.idleTimeoutMs, () => s.destroy())
      } else toHttp1(s)
    })
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port, opts.hostname, () => {
      server.off('error', reject)
      resolve()
    })
  })
  return {
    port: (server.address() as net.AddressInfo).port,
    setCertificate(cert, key) {
      ;(server as tls.Server).setSecureContext({ cert, key })
    },
    close: () => void server.close(),
    destroyAll() {
      for (const s of sockets) s.destroy()
    },
  }
}
