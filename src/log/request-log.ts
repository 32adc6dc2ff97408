/**
 * The request log: one row per client request, queued in memory and written in batches by
 * the off-thread BatchWriter, so no request ever waits on a database write.
 */
import type { BatchWriter, TableSpec } from '../db/batch-writer'
import type { RequestRecord, RequestSink } from '../proxy/record'

const REQUEST_LOG: TableSpec = {
  verb: 'INSERT OR IGNORE INTO',
  table: 'request_log',
  columns: [
    'id', 'ts', 'key_id', 'project', 'user', 'provider', 'route', 'api', 'model', 'method', 'path', 'stream', 'status',
    'duration_ms', 'ttfb_ms', 'input_tokens', 'output_tokens', 'cache_read_tokens', 'cache_write_tokens', 'usage', 'cost_nanos', 'error', 'attempts',
  ],
}

export class RequestLogWriter implements RequestSink {
  constructor(private readonly writer: BatchWriter) {}

  record(r: RequestRecord): void {
    const t = r.usage?.tokens
    const n = (v: number | undefined) => (v === undefined ? null : v)
    this.writer.insert(REQUEST_LOG, [
      r.id,
      r.ts,
      r.keyId ?? null,
      r.project ?? null,
      r.user ?? null,
      r.provider ?? null,
      r.route ?? null,
      r.api ?? null,
      r.usage?.model ?? r.model ?? null,
      r.method,
      r.path,
      r.stream ? 1 : 0,
      r.status,
      Math.round(r.durationMs),
      r.ttfbMs === undefined ? null : Math.round(r.ttfbMs),
      n(t?.input_tokens),
      n(t?.output_tokens),
      n(t?.cache_read_tokens),
      n(t?.cache_write_tokens),
      r.usage?.raw === undefined ? null : JSON.stringify(r.usage.raw),
      r.costNanos ?? null,
      r.error ?? null,
      r.attempts?.length ? JSON.stringify(r.attempts) : null,
      // A request refused before any upstream attempt was neither reserved nor served: its row may be shed while the queue is full.
    ], !r.attempts?.length)
  }

  /** Writes everything recorded so far (tests, shutdown). */
  flush(): Promise<void> {
    return this.writer.flush()
  }
}
