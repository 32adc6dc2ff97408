/**
 * A local OTLP/HTTP trace receiver: accepts `POST /v1/traces` as protobuf
 * (application/x-protobuf) or JSON (application/json), decodes every span, and keeps them
 * for assertions. The protobuf reader is written here from the OTLP .proto field numbers,
 * independent of the exporter's own encoder. Also: a blackhole (accepts, never answers)
 * (a closed port is in fault-upstream.ts), to play dead backends.
 */

export interface ReceivedSpan {
  traceId: string
  spanId: string
  parentSpanId?: string
  name: string
  /** OTLP SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number
  attributes: Record<string, unknown>
  status: { code: number; message?: string }
  resource: Record<string, unknown>
  scope?: string
}

export interface ReceivedExport {
  contentType: string
  headers: Headers
  /** The request body as it arrived. */
  body: Uint8Array
  spans: ReceivedSpan[]
}

export interface OtlpReceiver {
  url: string
  exports: ReceivedExport[]
  readonly spans: ReceivedSpan[]
  /** Waits until `pred` holds over the spans received so far (polling; fails after `ms`). */
  waitFor(pred: (spans: ReceivedSpan[]) => boolean, ms?: number): Promise<ReceivedSpan[]>
  stop(): void
}

export const SPAN_KIND = { internal: 1, server: 2, client: 3 } as const

export function startOtlpReceiver(): OtlpReceiver {
  const exports: ReceivedExport[] = []
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    async fetch(req) {
      const url = new URL(req.url)
      if (req.method !== 'POST' || url.pathname !== '/v1/traces') return new Response('not found', { status: 404 })
      const contentType = req.headers.get('content-type') ?? ''
      const bytes = new Uint8Array(await req.arrayBuffer())
      const spans = contentType.includes('json') ? decodeJson(JSON.parse(new TextDecoder().decode(bytes))) : decodeProtobuf(bytes)
      exports.push({ contentType, headers: req.headers, body: bytes, spans })
      // An empty ExportTraceServiceResponse: full success.
      return contentType.includes('json') ? Response.json({}) : new Response(new Uint8Array(0), { headers: { 'content-type': 'application/x-protobuf' } })
    },
  })
  const all = () => exports.flatMap((e) => e.spans)
  return {
    url: `http://127.0.0.1:${server.port}`,
    exports,
    get spans() {
      return all()
    },
    async waitFor(pred, ms = 10_000) {
      const deadline = Date.now() + ms
      for (;;) {
        const spans = all()
        if (pred(spans)) return spans
        if (Date.now() > deadline) throw new Error(`OTLP receiver: condition not met; got ${spans.length} span(s): ${spans.map((s) => s.name).join(', ')}`)
        await Bun.sleep(20)
      }
    },
    stop: () => void server.stop(true),
  }
}

/** A TCP listener that accepts connections and never answers (a hung backend). */
export function startBlackhole(): { url: string; connections: number; stop(): void } {
  const state = { connections: 0 }
  const listener = Bun.listen({
    hostname: '127.0.0.1',
    port: 0,
    socket: {
      open() {
        state.connections++
      },
      data() {},
    },
  })
  return {
    url: `http://127.0.0.1:${listener.port}`,
    get connections() {
      return state.connections
    },
    stop: () => listener.stop(true),
  }
}

// ---------- OTLP/JSON ----------

type J = Record<string, any>

function decodeJson(body: J): ReceivedSpan[] {
  const out: ReceivedSpan[] = []
  for (const rs of body.resourceSpans ?? []) {
    const resource = jsonAttributes(rs.resource?.attributes)
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        out.push({
          traceId: idHex(s.traceId),
          spanId: idHex(s.spanId),
          parentSpanId: s.parentSpanId ? idHex(s.parentSpanId) : undefined,
          name: s.name,
          kind: Number(s.kind ?? 0),
          attributes: jsonAttributes(s.attributes),
          status: { code: Number(s.status?.code ?? 0), message: s.status?.message || undefined },
          resource,
          scope: ss.scope?.name,
        })
      }
    }
  }
  return out
}

/** OTLP/JSON ids are hex; tolerate base64 (the protobuf-JSON mapping) too. */
function idHex(v: string): string {
  if (/^[0-9a-f]+$/i.test(v) && (v.length === 32 || v.length === 16)) return v.toLowerCase()
  return Buffer.from(v, 'base64').toString('hex')
}

function jsonAttributes(list: J[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const kv of list ?? []) out[kv.key] = jsonValue(kv.value)
  return out
}

function jsonValue(v: J | undefined): unknown {
  if (!v) return undefined
  if ('stringValue' in v) return v.stringValue
  if ('boolValue' in v) return v.boolValue
  if ('intValue' in v) return Number(v.intValue)
  if ('doubleValue' in v) return Number(v.doubleValue)
  if ('arrayValue' in v) return (v.arrayValue.values ?? []).map(jsonValue)
  if ('kvlistValue' in v) return jsonAttributes(v.kvlistValue.values)
  return undefined
}

// ---------- OTLP/protobuf ----------

/** Minimal protobuf wire reader: each message is read as a list of (field, value) pairs. */
class Reader {
  pos = 0
  constructor(private readonly buf: Uint8Array) {}
  done(): boolean {
    return this.pos >= this.buf.length
  }
  varint(): bigint {
    let result = 0n
    let shift = 0n
    for (;;) {
      if (this.pos >= this.buf.length) throw new Error('protobuf: truncated varint')
      const b = this.buf[this.pos++]!
      result |= BigInt(b & 0x7f) << shift
      if ((b & 0x80) === 0) return result
      shift += 7n
    }
  }
  bytes(): Uint8Array {
    const len = Number(this.varint())
    if (this.pos + len > this.buf.length) throw new Error('protobuf: truncated bytes')
    const out = this.buf.subarray(this.pos, this.pos + len)
    this.pos += len
    return out
  }
  fixed64(): DataView {
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8)
    this.pos += 8
    return v
  }
  fixed32(): number {
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 4).getUint32(0, true)
    this.pos += 4
    return v
  }
}

type Field = { n: number; varint?: bigint; bytes?: Uint8Array; f64?: DataView; f32?: number }

function fields(buf: Uint8Array): Field[] {
  const r = new Reader(buf)
  const out: Field[] = []
  while (!r.done()) {
    const tag = Number(r.varint())
    const n = tag >>> 3
    const wire = tag & 7
    if (wire === 0) out.push({ n, varint: r.varint() })
    else if (wire === 1) out.push({ n, f64: r.fixed64() })
    else if (wire === 2) out.push({ n, bytes: r.bytes() })
    else if (wire === 5) out.push({ n, f32: r.fixed32() })
    else throw new Error(`protobuf: unsupported wire type ${wire}`)
  }
  return out
}

const utf8 = new TextDecoder()
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

function decodeProtobuf(buf: Uint8Array): ReceivedSpan[] {
  const out: ReceivedSpan[] = []
  // ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1 }
  for (const rsField of fields(buf).filter((f) => f.n === 1)) {
    let resource: Record<string, unknown> = {}
    const scopes: Uint8Array[] = []
    for (const f of fields(rsField.bytes!)) {
      // ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2 }
      if (f.n === 1) resource = pbAttributes(fields(f.bytes!).filter((x) => x.n === 1))
      else if (f.n === 2) scopes.push(f.bytes!)
    }
    for (const scopeBytes of scopes) {
      let scope: string | undefined
      // ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2 }
      for (const f of fields(scopeBytes)) {
        if (f.n === 1) scope = utf8.decode(fields(f.bytes!).find((x) => x.n === 1)?.bytes ?? new Uint8Array())
        else if (f.n === 2) out.push({ ...pbSpan(f.bytes!), resource, scope })
      }
    }
  }
  return out
}

function pbSpan(buf: Uint8Array): Omit<ReceivedSpan, 'resource' | 'scope'> {
  const span: Omit<ReceivedSpan, 'resource' | 'scope'> = { traceId: '', spanId: '', name: '', kind: 0, attributes: {}, status: { code: 0 } }
  const attrs: Field[] = []
  for (const f of fields(buf)) {
    if (f.n === 1) span.traceId = hex(f.bytes!)
    else if (f.n === 2) span.spanId = hex(f.bytes!)
    else if (f.n === 4 && f.bytes!.length) span.parentSpanId = hex(f.bytes!)
    else if (f.n === 5) span.name = utf8.decode(f.bytes!)
    else if (f.n === 6) span.kind = Number(f.varint!)
    else if (f.n === 9) attrs.push(f)
    else if (f.n === 15) {
      // Status { string message = 2; StatusCode code = 3 }
      for (const s of fields(f.bytes!)) {
        if (s.n === 2) span.status.message = utf8.decode(s.bytes!)
        else if (s.n === 3) span.status.code = Number(s.varint!)
      }
    }
  }
  span.attributes = pbAttributes(attrs)
  return span
}

/** repeated KeyValue { string key = 1; AnyValue value = 2 } */
function pbAttributes(kvs: Field[]): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const kv of kvs) {
    let key = ''
    let value: unknown
    for (const f of fields(kv.bytes!)) {
      if (f.n === 1) key = utf8.decode(f.bytes!)
      else if (f.n === 2) value = pbValue(f.bytes!)
    }
    out[key] = value
  }
  return out
}

/** AnyValue { string 1; bool 2; int64 3; double 4; ArrayValue 5; KeyValueList 6; bytes 7 } */
function pbValue(buf: Uint8Array): unknown {
  for (const f of fields(buf)) {
    if (f.n === 1) return utf8.decode(f.bytes!)
    if (f.n === 2) return f.varint !== 0n
    if (f.n === 3) return Number(BigInt.asIntN(64, f.varint!))
    if (f.n === 4) return f.f64!.getFloat64(0, true)
    if (f.n === 5) return fields(f.bytes!).filter((x) => x.n === 1).map((x) => pbValue(x.bytes!))
    if (f.n === 6) return pbAttributes(fields(f.bytes!).filter((x) => x.n === 1))
    if (f.n === 7) return f.bytes
  }
  return undefined
}
