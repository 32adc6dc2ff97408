/**
 * `tollgate serve` with [server] tls_cert / tls_key, as its own process: SIGHUP reads the
 * certificate files again. Connections open before the reload (an h2 session, an HTTP/1.1
 * keep-alive connection) keep working; a new handshake gets the new certificate; a key that
 * does not match is refused and the certificate in force stays.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { copyFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import tls from 'node:tls'
import { BUN, ROOT } from '../support/cli'
import { basicConfig } from '../support/gateway'
import { createTestCa, type TestCa } from '../support/tls'
import { connect, request } from '../support/h2-client'

let ca: TestCa
let proc: ReturnType<typeof Bun.spawn> | undefined
let out = ''

beforeAll(async () => {
  ca = await createTestCa()
})
afterAll(() => {
  proc?.kill('SIGKILL')
  ca.remove()
})

async function waitFor(text: string, from: number): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (out.indexOf(text, from) >= 0) return
    await Bun.sleep(25)
  }
  throw new Error(`no "${text}" in: ${out.slice(from)}`)
}

const commonName = (s: tls.TLSSocket) => s.getPeerCertificate().subject.CN

/** An HTTP/1.1 keep-alive connection over TLS: each call sends one request on the same socket. */
function keepAlive(port: number): Promise<{ socket: tls.TLSSocket; get(path: string): Promise<string> }> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca: ca.ca, servername: 'localhost', ALPNProtocols: ['http/1.1'] }, () => {
      let pending: ((s: string) => void) | undefined
      let buf = ''
      socket.on('data', (d) => {
        buf += d
        const m = /content-length: (\d+)\r\n/i.exec(buf)
        const end = buf.indexOf('\r\n\r\n')
        if (m && end >= 0 && buf.length >= end + 4 + Number(m[1])) {
          const whole = buf
          buf = ''
          pending?.(whole)
        }
      })
      resolve({
        socket,
        get: (path) =>
          new Promise((res) => {
            pending = res
            socket.write(`GET ${path} HTTP/1.1\r\nHost: localhost\r\n\r\n`)
          }),
      })
    })
    socket.on('error', reject)
  })
}

test('SIGHUP swaps the certificate for new handshakes; open h2 and HTTP/1.1 connections keep working', async () => {
  const one = await ca.issue('cert-one')
  const two = await ca.issue('cert-two')
  const other = await ca.issue('cert-other')
  const cert = join(ca.dir, 'live.pem')
  const key = join(ca.dir, 'live.key')
  copyFileSync(one.certFile, cert)
  copyFileSync(one.keyFile, key)
  const config = join(ca.dir, 'config.toml')
  writeFileSync(
    config,
    `${basicConfig('')}\n[server]\nhttp2 = true\ntls_cert = "${cert}"\ntls_key = "${key}"\n\n[database]\nurl = "file:${join(ca.dir, 'db.sqlite')}"\n\n[logging]\nlevel = "off"\n`,
  )
  proc = Bun.spawn([BUN, join(ROOT, 'src/cli.ts'), 'serve', '--config', config, '--listen', '127.0.0.1:0'], {
    cwd: ROOT,
    env: { ...process.env, BUN_CONFIG_MAX_HTTP_REQUESTS: '1024', TOLLGATE_OTEL: '' },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  for (const s of [proc.stdout, proc.stderr] as ReadableStream<Uint8Array>[])
    void (async () => {
      for await (const c of s) out += new TextDecoder().decode(c)
    })()
  await waitFor('listening on', 0)
  const url = /listening on (https:\/\/\S+)/.exec(out)![1]!
  const port = Number(new URL(url).port)
  expect(out).toContain('(TLS, HTTP/2 (ALPN h2) and HTTP/1.1)')

  const h2 = await connect(url, { ca: ca.ca })
  const h1 = await keepAlive(port)
  try {
    expect(commonName(h2.socket as tls.TLSSocket)).toBe('cert-one')
    expect(commonName(h1.socket)).toBe('cert-one')
    expect((await request(h2, { path: '/health' })).status).toBe(200)
    expect(await h1.get('/health')).toStartWith('HTTP/1.1 200')

    // A renewal: new files in place, then SIGHUP.
    copyFileSync(two.certFile, cert)
    copyFileSync(two.keyFile, key)
    let from = out.length
    proc.kill('SIGHUP')
    await waitFor('SIGHUP: reloaded', from)

    // Open connections go on, on the same sockets.
    expect((await request(h2, { path: '/health' })).status).toBe(200)
    expect(await h1.get('/health')).toStartWith('HTTP/1.1 200')
    expect(h2.destroyed).toBe(false)
    // New handshakes see the new certificate, for h2 and HTTP/1.1 alike.
    const fresh = await connect(url, { ca: ca.ca })
    expect(commonName(fresh.socket as tls.TLSSocket)).toBe('cert-two')
    expect((await request(fresh, { path: '/health' })).status).toBe(200)
    fresh.close()
    const freshH1 = await keepAlive(port)
    expect(commonName(freshH1.socket)).toBe('cert-two')
    freshH1.socket.destroy()

    // A key that does not belong to the certificate: refused, the running one stays.
    copyFileSync(other.keyFile, key)
    from = out.length
    proc.kill('SIGHUP')
    await waitFor('refused', from)
    expect(out.slice(from)).toContain('server.tls_cert')
    const after = await connect(url, { ca: ca.ca })
    expect(commonName(after.socket as tls.TLSSocket)).toBe('cert-two')
    after.close()
    expect((await request(h2, { path: '/health' })).status).toBe(200)
  } finally {
    h2.close()
    h1.socket.destroy()
  }
  proc.kill('SIGTERM')
  expect(await proc.exited).toBe(0)
  proc = undefined
})
