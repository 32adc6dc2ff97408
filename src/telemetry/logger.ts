/**
 * One structured line per request, with the request log's fields, as JSON or a readable
 * `pretty` line, on stdout or appended to a file. Records are queued (the record is final by
 * the time a sink sees it) and formatted, redacted and written in batches by the flush timer,
 * off the request path; a queue that cannot drain drops lines (counted), never blocks.
 * Every line goes through the redactor.
 */
import { write as fsWrite } from 'node:fs'
import { open, type FileHandle } from 'node:fs/promises'
import type { LoggingConfig } from '../config/schema'
import type { RequestRecord, RequestSink } from '../proxy/record'
import type { Redactor } from './redact'

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40, off: 99 } as const
type Level = Exclude<keyof typeof LEVELS, 'off'>

const FLUSH_MS = 50
const MAX_QUEUE = 10_000

/** Where lines go: stdout by default; tests pass their own. */
export interface LogOutput {
  write(text: string): Promise<void>
  close?(): Promise<void>
}

export function stdoutOutput(): LogOutput {
  return {
    write: (text) => new Promise((resolve) => fsWrite(1, text, () => resolve())),
  }
}

export function fileOutput(path: string): LogOutput {
  let handle: Promise<FileHandle> | undefined
  return {
    async write(text) {
      const fh = await (handle ??= open(path, 'a'))
      await fh.write(text)
    },
    async close() {
      if (handle) await (await handle).close()
    },
  }
}

export class RequestLogger implements RequestSink {
  private queue: { level: Level; r: RequestRecord }[] = []
  private timer: ReturnType<typeof setTimeout> | undefined
  private writing: Promise<void> = Promise.resolve()
  private readonly min: number

  constructor(
    private readonly config: LoggingConfig,
    private readonly redactor: Redactor,
    private readonly output: LogOutput,
    private readonly onDrop: (n: number) => void = () => {},
  ) {
    this.min = LEVELS[config.level]
  }

  record(r: RequestRecord): void {
    const level: Level = r.status >= 500 || r.status === 0 ? 'error' : r.status >= 400 ? 'warn' : 'info'
    if (LEVELS[level] < this.min) return
    if (this.queue.length >= MAX_QUEUE) return this.onDrop(1)
    this.queue.push({ level, r })
    this.timer ??= setTimeout(() => void this.flush(), FLUSH_MS)
  }

  /** Writes what is queued; resolves when it is out. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer)
    this.timer = undefined
    if (!this.queue.length) return this.writing
    const pretty = this.config.format === 'pretty'
    let text = ''
    for (const { level, r } of this.queue) text += this.redactor.text(pretty ? prettyLine(level, r) : JSON.stringify(jsonFields(level, r))) + '\n'
    this.queue = []
    this.writing = this.writing.then(() => this.output.write(text)).catch(() => this.onDrop(text.split('\n').length - 1))
    return this.writing
  }

  async close(): Promise<void> {
    await this.flush()
    await this.output.close?.()
  }
}

/** The request log's columns, snake_case as in the database. */
function jsonFields(level: Level, r: RequestRecord): Record<string, unknown> {
  const t = r.usage?.tokens
  return {
    level,
    time: new Date(r.ts).toISOString(),
    msg: 'request',
    id: r.id,
    key_id: r.keyId,
    project: r.project,
    user: r.user,
    provider: r.provider,
    route: r.route,
    api: r.api,
    model: r.usage?.model ?? r.model,
    method: r.method,
    path: r.path,
    stream: r.stream,
    status: r.status,
    duration_ms: Math.round(r.durationMs),
    ttfb_ms: r.ttfbMs === undefined ? undefined : Math.round(r.ttfbMs),
    input_tokens: t?.input_tokens,
    output_tokens: t?.output_tokens,
    cache_read_tokens: t?.cache_read_tokens,
    cache_write_tokens: t?.cache_write_tokens,
    usage: r.usage?.raw,
    cost_nanos: r.costNanos,
    error: r.error,
    attempts: r.attempts,
  }
}

function prettyLine(level: Level, r: RequestRecord): string {
  const t = r.usage?.tokens
  const parts = [
    new Date(r.ts).toISOString(),
    level.toUpperCase().padEnd(5),
    `${r.status}`,
    `${r.method} ${r.path}`,
    `${Math.round(r.durationMs)}ms`,
    r.project && `project=${r.project}`,
    r.keyId && `key=${r.keyId}`,
    r.provider && `provider=${r.provider}`,
    (r.usage?.model ?? r.model) && `model=${r.usage?.model ?? r.model}`,
    t && `tokens=${t.input_tokens ?? 0}/${t.output_tokens ?? 0}`,
    r.costNanos !== undefined && `cost=$${(r.costNanos / 1e9).toFixed(6)}`,
    r.error && `error=${r.error}`,
    `id=${r.id}`,
  ]
  return parts.filter(Boolean).join(' ')
}
