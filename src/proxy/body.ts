/** Reads a request body with a hard size cap and a deadline, before anything goes upstream. */
import { InvalidRequestError, PayloadTooLargeError, RequestTimeoutError } from '../errors'

/** Stateless without `stream: true`, so one serves every request. */
const utf8 = new TextDecoder()

/**
 * The body, or a 408 when it has not arrived in full `timeoutMs` after `since` (performance.now()
 * when the request began): a client sending a byte now and then must not hold a connection
 * for as long as the idle timeout allows. The 408 carries `connection: close`.
 */
export async function readBody(request: Request, limit: number, timeoutMs = Infinity, since = performance.now()): Promise<Uint8Array | null> {
  if (request.method === 'GET' || request.method === 'HEAD' || !request.body) return null
  if (!Number.isFinite(timeoutMs)) return readWhole(request, limit)
  const left = Math.max(0, timeoutMs - (performance.now() - since))
  let timer: ReturnType<typeof setTimeout> | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      // Stops reading; the unread rest goes with the connection the 408 closes.
      void request.body?.cancel().catch(() => {})
      reject(new RequestTimeoutError(timeoutMs / 1000))
    }, left)
  })
  try {
    return await Promise.race([readWhole(request, limit), late])
  } finally {
    clearTimeout(timer)
  }
}

async function readWhole(request: Request, limit: number): Promise<Uint8Array | null> {
  if (!request.body) return null
  const declared = Number(request.headers.get('content-length') ?? NaN)
  if (declared > limit) throw new PayloadTooLargeError(limit)
  // With a declared length the server has already capped the body; the native read is fastest.
  if (declared >= 0) {
    const body = new Uint8Array(await request.arrayBuffer())
    if (body.byteLength > limit) throw new PayloadTooLargeError(limit)
    return body
  }
  const chunks: Uint8Array[] = []
  let size = 0
  const reader = request.body.getReader()
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > limit) {
      void reader.cancel().catch(() => {})
      throw new PayloadTooLargeError(limit)
    }
    chunks.push(value)
  }
  if (chunks.length === 1) return chunks[0]!
  const out = new Uint8Array(size)
  let at = 0
  for (const c of chunks) {
    out.set(c, at)
    at += c.byteLength
  }
  return out
}

/**
 * Parses a JSON body that the gateway must read (model, stream). A body that looks like JSON is
 * read whatever its declared type (`text/plain`, `Application/Json`, none), so a mislabelled body
 * cannot slip past the model check; multipart and other bodies are left to the format's table.
 */
export function inspectJson(body: Uint8Array | null, contentType: string | null): Record<string, unknown> | undefined {
  if (!body || body.byteLength === 0) return undefined
  const isJson = (contentType !== null && contentType.toLowerCase().includes('json')) || firstByte(body) === 0x7b
  if (!isJson) return undefined
  let v: unknown
  try {
    v = JSON.parse(utf8.decode(body))
  } catch {
    throw new InvalidRequestError('Request body is not valid JSON.', 'invalid_json')
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new InvalidRequestError('Request body must be a JSON object.', 'invalid_json')
  return v as Record<string, unknown>
}

/** The first byte that is not JSON whitespace. */
function firstByte(body: Uint8Array): number | undefined {
  for (let i = 0; i < body.length && i < 64; i++) {
    const b = body[i]!
    if (b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09) return b
  }
  return undefined
}
