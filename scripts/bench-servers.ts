/**
 * The servers the benchmark measures, each run in its own process so the load generator
 * does not share an event loop with them: `stub` (an instant upstream) and `bare` (a
 * minimal Bun pass-through, the yardstick). Tollgate itself runs as `tollgate serve`.
 * Each prints `READY <port>` once listening.
 */
const role = process.argv[2]
// Exit (not die) on SIGTERM, so that `bun --cpu-prof` writes its profile.
process.on('SIGTERM', () => process.exit(0))

const CHAT = JSON.stringify({
  id: 'chatcmpl-bench',
  object: 'chat.completion',
  created: 1700000000,
  model: 'gpt-4o-mini-2024-07-18',
  choices: [{ index: 0, message: { role: 'assistant', content: 'Hello! How can I help you today?' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 12, completion_tokens: 9, total_tokens: 21 },
})
const words = ['Hello', '!', ' How', ' can', ' I', ' help', ' you', ' today', '?']
const SSE =
  words.map((w) => `data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"delta":{"content":${JSON.stringify(w)}}}]}\n\n`).join('') +
  'data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","model":"gpt-4o-mini-2024-07-18","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":9,"total_tokens":21}}\n\n' +
  'data: [DONE]\n\n'

/** A function doing a fixed amount of CPU work that takes about `us` µs here now (none for 0). */
function workOf(us: number): () => void {
  if (!us) return () => {}
  const doc = JSON.parse(CHAT) as unknown
  let sink = 0
  const once = () => (sink += JSON.stringify(JSON.parse(JSON.stringify(doc))).length)
  for (let i = 0; i < 20_000; i++) once()
  const s = performance.now()
  for (let i = 0; i < 20_000; i++) once()
  const n = Math.max(1, Math.round((us / 1000) / ((performance.now() - s) / 20_000)))
  return () => {
    for (let i = 0; i < n; i++) once()
    if (sink < 0) console.log(sink)
  }
}

if (role === 'stub') {
  const server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    async fetch(req) {
      const body = await req.text()
      if (body.includes('"stream":true')) return new Response(SSE, { headers: { 'content-type': 'text/event-stream' } })
      return new Response(CHAT, { headers: { 'content-type': 'application/json' } })
    },
  })
  console.log(`READY ${server.port}`)
} else if (role === 'bare') {
  const upstream = process.argv[3]!
  // `bare URL WORK_US`: a control for the tail (scripts/bench-tail.ts) that does about WORK_US µs of
  // CPU work per request besides (a fixed amount of JSON work, measured here at start).
  const work = workOf(Number(process.argv[4] ?? 0))
  const server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    async fetch(req) {
      const u = new URL(req.url)
      work()
      const res = await fetch(upstream + u.pathname.replace(/^\/openai/, '/v1'), { method: req.method, headers: req.headers, body: await req.arrayBuffer() })
      return new Response(res.body, { status: res.status, headers: res.headers })
    },
  })
  console.log(`READY ${server.port}`)
} else {
  console.error(`unknown role ${role}`)
  process.exit(2)
}
