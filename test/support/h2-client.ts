/** A small node:http2 client for tests: one request on a session, the whole answer back. */
import http2 from 'node:http2'

export interface H2Answer {
  status: number
  headers: http2.IncomingHttpHeaders
  body: Uint8Array
  text: string
}

export interface H2Request {
  method?: string
  path: string
  headers?: Record<string, string>
  body?: string | Uint8Array
}

export function connect(url: string, opts: http2.SecureClientSessionOptions = {}): Promise<http2.ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const s = http2.connect(url, opts)
    s.once('connect', () => {
      s.off('error', reject)
      // A session the server closes later must not fail the test process.
      s.on('error', () => {})
      resolve(s)
    })
    s.once('error', reject)
  })
}

export function request(session: http2.ClientHttp2Session, r: H2Request): Promise<H2Answer> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':method': r.method ?? (r.body === undefined ? 'GET' : 'POST'), ':path': r.path, ...r.headers }, { endStream: r.body === undefined })
    let status = 0
    let headers: http2.IncomingHttpHeaders = {}
    const chunks: Buffer[] = []
    stream.on('response', (h) => {
      headers = h
      status = Number(h[':status'])
    })
    stream.on('data', (c: Buffer) => chunks.push(c))
    stream.on('end', () => {
      const body = new Uint8Array(Buffer.concat(chunks))
      resolve({ status, headers, body, text: new TextDecoder().decode(body) })
    })
    stream.on('error', reject)
    if (r.body !== undefined) stream.end(r.body)
  })
}
