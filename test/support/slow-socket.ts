/**
 * Raw-socket clients that read slowly, for backpressure tests: Bun's fetch reads eagerly and
 * would hide what a gateway buffers for a client that does not read.
 */
import { connect, type Socket } from 'node:net'

export interface SlowSocket {
  socket: Socket
  /** Everything received so far. */
  parts: Buffer[]
  /** The response status once its head is in (0 before). */
  status(): number
  text(): string
  closed: Promise<void>
}

/** Sends `request` (a whole HTTP/1.1 request) to 127.0.0.1:`port`, takes the first chunk of the answer, then stops reading until `socket.resume()`. */
export function slowSocket(port: number, request: string): SlowSocket {
  const parts: Buffer[] = []
  const socket = connect(port, '127.0.0.1', () => socket.write(request))
  socket.once('data', () => socket.pause())
  socket.on('data', (d: Buffer) => parts.push(d))
  socket.on('error', () => {})
  const text = () => Buffer.concat(parts).toString('latin1')
  return { socket, parts, text, status: () => Number(/^HTTP\/1\.1 (\d{3})/.exec(text())?.[1] ?? 0), closed: new Promise((r) => socket.on('close', () => r())) }
}

/** Waits (bounded: 12 s) until `read()` has passed `floor` and then stays the same over 300 ms. */
export async function untilSteady(read: () => number, floor = 0): Promise<void> {
  for (let i = 0; i < 60 && read() <= floor; i++) await Bun.sleep(100)
  let last = -1
  for (let i = 0; i < 30 && read() !== last; i++) {
    last = read()
    await Bun.sleep(300)
  }
}
