/**
 * An instant OpenAI-compatible upstream for cluster tests. Every answer reports usage the
 * gateway's reservation estimate matches exactly (prompt tokens = body bytes, completion
 * tokens = max_tokens), so a request's cost equals its reservation and limits "worth N
 * requests" are exact. A body may carry `x_delay_ms` (hold the answer, or pause between stream
 * chunks) and `x_tag` (the stub counts requests and the most in flight at once per tag).
 */
export interface StubUpstream {
  url: string
  /** Requests answered per tag. */
  count(tag: string): number
  /** Most requests of a tag in flight at once. */
  peak(tag: string): number
  reset(): void
  stop(): void
}

const enc = new TextEncoder()

export function startStubUpstream(): StubUpstream {
  const counts = new Map<string, number>()
  const live = new Map<string, number>()
  const peaks = new Map<string, number>()
  const server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    idleTimeout: 0,
    async fetch(req) {
      const raw = new Uint8Array(await req.arrayBuffer())
      const body = JSON.parse(new TextDecoder().decode(raw)) as { model: string; stream?: boolean; max_tokens?: number; x_delay_ms?: number; x_tag?: string }
      const tag = body.x_tag ?? ''
      counts.set(tag, (counts.get(tag) ?? 0) + 1)
      const now = (live.get(tag) ?? 0) + 1
      live.set(tag, now)
      peaks.set(tag, Math.max(peaks.get(tag) ?? 0, now))
      const done = () => void live.set(tag, (live.get(tag) ?? 1) - 1)
      const completion = body.max_tokens ?? 20
      const usage = { prompt_tokens: raw.byteLength, completion_tokens: completion, total_tokens: raw.byteLength + completion }
      const delay = body.x_delay_ms ?? 0
      if (!body.stream) {
        if (delay) await Bun.sleep(delay)
        done()
        return Response.json({ id: 'c1', object: 'chat.completion', created: 1, model: body.model, choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }], usage })
      }
      const base = { id: 'c1', object: 'chat.completion.chunk', created: 1, model: body.model }
      const events = [
        ...Array.from({ length: 4 }, (_, i) => ({ ...base, choices: [{ index: 0, delta: { content: `part${i} ` }, finish_reason: null }] })),
        { ...base, choices: [], usage },
      ]
      let i = 0
      return new Response(
        new ReadableStream<Uint8Array>({
          async pull(c) {
            if (delay) await Bun.sleep(delay)
            if (i < events.length) c.enqueue(enc.encode(`data: ${JSON.stringify(events[i++])}\n\n`))
            else {
              c.enqueue(enc.encode('data: [DONE]\n\n'))
              c.close()
              done()
            }
          },
          cancel: done,
        }),
        { headers: { 'content-type': 'text/event-stream' } },
      )
    },
  })
  return {
    url: `http://127.0.0.1:${server.port}`,
    count: (tag) => counts.get(tag) ?? 0,
    peak: (tag) => peaks.get(tag) ?? 0,
    reset() {
      counts.clear()
      peaks.clear()
    },
    stop: () => void server.stop(true),
  }
}

/** gpt-4o per token, nanos (genai-prices: $2.50 / $10 per million). */
export const GPT4O = { input: 2500, output: 10_000 }
