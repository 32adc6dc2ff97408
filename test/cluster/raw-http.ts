/**
 * A minimal HTTP/1.1 client over raw sockets. The test process's own `fetch` runs at most 256
 * requests at once (BUN_CONFIG_MAX_HTTP_REQUESTS is read at process start), and the cluster
 * tests need 600 truly concurrent ones.
 */
export interface RawResponse {
  status: number
  headers: Record<string, string>
  body: string
}

export function rawPost(base: string, path: string, headers: Record<string, string>, body: string): Promise<RawResponse> {
  const u = new URL(base)
  const bytes = Buffer.from(body)
  const head =
    `POST ${path} HTTP/1.1\r\nhost: ${u.host}\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: ${bytes.byteLength}\r\n` +
    Object.entries(headers)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('') +
    '\r\n'
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let settled = false
    const finish = () => {
      if (settled) return
      settled = true
      const text = Buffer.concat(chunks).toString('utf8')
      const end = text.indexOf('\r\n\r\n')
      if (end < 0) return reject(new Error(`no HTTP response from ${base} (${text.length} bytes)`))
      const [statusLine, ...lines] = text.slice(0, end).split('\r\n')
      const h: Record<string, string> = {}
      for (const l of lines) {
        const i = l.indexOf(':')
        h[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim()
      }
      let rest = text.slice(end + 4)
      if (h['transfer-encoding'] === 'chunked') rest = unchunk(rest)
      resolve({ status: Number(statusLine!.split(' ')[1]), headers: h, body: rest })
    }
    Bun.connect({
      hostname: u.hostname,
      port: Number(u.port),
      socket: {
        open(s) {
          s.write(Buffer.concat([Buffer.from(head), bytes]))
        },
        data(_s, d) {
          chunks.push(Buffer.from(d))
        },
        close: finish,
        end: finish,
        error(_s, e) {
          if (!settled) {
            settled = true
            reject(e)
          }
        },
        connectError(_s, e) {
          settled = true
          reject(e)
        },
      },
    }).catch(reject)
  })
}

function unchunk(s: string): string {
  let out = ''
  let at = 0
  for (;;) {
    const nl = s.indexOf('\r\n', at)
    if (nl < 0) return out
    const size = parseInt(s.slice(at, nl), 16)
    if (!size) return out
    out += s.slice(nl + 2, nl + 2 + size)
    at = nl + 2 + size + 2
  }
}
