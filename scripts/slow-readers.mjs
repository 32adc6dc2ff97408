// Slow raw-socket readers for scripts/bench-slow.ts, run under Node: node:net in Node stops
// reading from the kernel once a paused socket holds its highWaterMark (Bun's node:net kept
// reading ~2 MB per socket into user space, which hid where the bytes were).
//   node scripts/slow-readers.mjs <port> <n> <hold-seconds> <body>
// Prints one JSON line after <hold-seconds> ({ read, buffered } in bytes), then exits when killed.
import { connect } from 'node:net'
const [port, n, hold, body] = [Number(process.argv[2]), Number(process.argv[3]), Number(process.argv[4]), process.argv[5]]
const key = process.env.KEY
let read = 0
const sockets = []
for (let i = 0; i < n; i++) {
  const s = connect({ port, host: '127.0.0.1', highWaterMark: 16 * 1024 }, () => {
    s.write(`POST /openai/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`)
  })
  s.on('readable', () => {})
  const timer = setInterval(() => {
    const d = s.read(1024) ?? s.read()
    if (d) read += d.length
  }, 1000)
  s.on('close', () => clearInterval(timer))
  s.on('error', () => {})
  sockets.push(s)
}
setTimeout(() => {
  console.log(JSON.stringify({ read, buffered: sockets.reduce((a, s) => a + s.readableLength, 0) }))
}, hold * 1000)
