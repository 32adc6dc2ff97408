/**
 * A scriptable OpenAI-compatible upstream for spend tests: every answer reports the same
 * usage, so the cost of one request is known exactly. Streams can pause, hang or break
 * mid-way to script disconnects and upstream failures.
 */
export interface FixedUsage {
  prompt: number
  completion: number
}

export interface UpstreamScript {
  usage: FixedUsage
  /** Content chunks before the usage chunk (default 3). */
  chunks?: number
  /** Pause before each chunk, ms (default 0). */
  delayMs?: number
  /** Hold the response headers this long (a disconnect before the first byte). */
  headerDelayMs?: number
  /** After this many content chunks: 'hang' (never finish) or 'break' (cut the connection). */
  cutAfter?: { chunks: number; how: 'hang' | 'break' }
  /** Leave out the final [DONE] after the usage chunk, and hang there. */
  hangAfterUsage?: boolean
}

export interface ScriptedUpstream {
  url: string
  script: UpstreamScript
  requests: number
  stop(): void
}

const enc = new TextEncoder()

export function startFixedUpstream(script: UpstreamScript): ScriptedUpstream {
  const state = { requests: 0 }
  const server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    idleTimeout: 0,
    async fetch(req) {
      state.requests++
      const s = up.script
      const body = (await req.json()) as { model: string; stream?: boolean }
      if (s.headerDelayMs) await Bun.sleep(s.headerDelayMs)
      const usage = { prompt_tokens: s.usage.prompt, completion_tokens: s.usage.completion, total_tokens: s.usage.prompt + s.usage.completion }
      if (!body.stream) {
        return Response.json({
          id: 'chatcmpl-1',
          object: 'chat.completion',
          created: 1,
          model: body.model,
          choices: [{ index: 0, message: { role: 'assistant', content: 'Hello there!' }, finish_reason: 'stop' }],
          usage,
        })
      }
      const n = s.chunks ?? 3
      let i = 0
      const chunk = (o: unknown) => enc.encode(`data: ${JSON.stringify(o)}\n\n`)
      const base = { id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: body.model }
      const stream = new ReadableStream<Uint8Array>({
        async pull(c) {
          if (s.delayMs) await Bun.sleep(s.delayMs)
          if (s.cutAfter && i === s.cutAfter.chunks) {
            if (s.cutAfter.how === 'break') return c.error(new Error('upstream broke'))
            return new Promise(() => {})
          }
          if (i < n) {
            c.enqueue(chunk({ ...base, choices: [{ index: 0, delta: { content: `word${i} and more words ` }, finish_reason: null }] }))
          } else if (i === n) {
            c.enqueue(chunk({ ...base, choices: [], usage }))
            if (s.hangAfterUsage) {
              i++
              return
            }
          } else if (i === n + 1) {
            if (s.hangAfterUsage) return new Promise(() => {})
            c.enqueue(enc.encode('data: [DONE]\n\n'))
          } else return c.close()
          i++
        },
      })
      return new Response(stream, { headers: { 'content-type': 'text/event-stream' } })
    },
  })
  const up: ScriptedUpstream = {
    url: `http://127.0.0.1:${server.port}`,
    script,
    get requests() {
      return state.requests
    },
    stop: () => void server.stop(true),
  }
  return up
}

/** gpt-4o's price in nanos per token (genai-prices: $2.50 / $10 per million). */
export const GPT4O = { input: 2500, output: 10000 }

export function costOf(u: FixedUsage): number {
  return u.prompt * GPT4O.input + u.completion * GPT4O.output
}

/**
 * An upstream that starts a chunked SSE answer, sends two content events, then drops the
 * connection without ending the body: a real upstream failure mid-stream.
 */
export function startBreakingUpstream(): { url: string; stop(): void } {
  const event = (text: string) => `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o', choices: [{ index: 0, delta: { content: text } }] })}\n\n`
  const chunk = (s: string) => `${Buffer.byteLength(s).toString(16)}\r\n${s}\r\n`
  const server = Bun.listen({
    hostname: '127.0.0.1',
    port: 0,
    socket: {
      data(sock, data) {
        if (!data.toString().includes('\r\n\r\n')) return
        sock.write('HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n')
        sock.write(chunk(event('Hello there, ')))
        setTimeout(() => {
          sock.write(chunk(event('this answer will not finish')))
          setTimeout(() => sock.end(), 20)
        }, 20)
      },
    },
  })
  return { url: `http://127.0.0.1:${server.port}`, stop: () => server.stop(true) }
}
