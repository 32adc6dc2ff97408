/**
 * Event-stream decoding on the side of the relay: however the network splits a recorded
 * Bedrock stream, the usage read is the same; a frame that fails its CRC stops decoding;
 * and the Anthropic-format conversion produces the same SSE for every split.
 */
import { describe, expect, test } from 'bun:test'
import { listCassettes, loadCassette, type Interaction } from '../../support/recordings'
import { sseEvents } from '../../support/sse'
import { eventStreamDecoder, frameDecoder } from '../../../src/providers/bedrock/eventstream'
import { bedrockStreamUsage } from '../../../src/providers/bedrock/usage'
import { anthropicSseConverter } from '../../../src/providers/bedrock/anthropic-sse'
import type { ReportedUsage } from '../../../src/providers/types'
import { chunkFrame, exceptionFrame, reframeAnthropicSse } from './support'
import { seededRandom } from '../../support/random'

function usageOf(pieces: Uint8Array[]): ReportedUsage | undefined {
  const reader = bedrockStreamUsage()
  const decoder = eventStreamDecoder(reader)
  for (const p of pieces) decoder.push(p)
  decoder.end()
  return reader.result()
}

/** Splits at the given offsets, each piece a copy (as separate network reads would be). */
function split(body: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [0, ...cuts, body.length]
  return points.slice(0, -1).map((from, i) => body.slice(from, points[i + 1]))
}

async function recordedStreams(): Promise<Interaction[]> {
  const out: Interaction[] = []
  for (const name of listCassettes('bedrock')) {
    for (const x of (await loadCassette('bedrock', name)).interactions) if (x.contentType.includes('eventstream')) out.push(x)
  }
  return out
}

describe('event-stream usage decoding', () => {
  test('split at every byte boundary of a recorded ConverseStream, the usage is the same', async () => {
    const [x] = (await loadCassette('bedrock', 'test_bedrock_model_stream_with_extra_headers')).interactions
    const body = x!.responseBody
    const whole = usageOf([body])
    expect(whole?.tokens.input_tokens).toBeGreaterThan(0)
    expect(whole?.tokens.output_tokens).toBeGreaterThan(0)
    for (let i = 0; i <= body.length; i++) expect(usageOf(split(body, [i]))).toEqual(whole!)
  })

  test('every recorded stream: one byte at a time and random splits give the usage of the whole', async () => {
    const streams = await recordedStreams()
    expect(streams.length).toBeGreaterThanOrEqual(7)
    const random = seededRandom(42)
    for (const x of streams) {
      const whole = usageOf([x.responseBody])
      expect(whole).toBeDefined()
      expect(usageOf(split(x.responseBody, Array.from({ length: x.responseBody.length - 1 }, (_, i) => i + 1)))).toEqual(whole!)
      for (let k = 0; k < 20; k++) {
        const cuts = Array.from({ length: 1 + Math.floor(random() * 12) }, () => Math.floor(random() * x.responseBody.length)).sort((a, b) => a - b)
        expect(usageOf(split(x.responseBody, cuts))).toEqual(whole!)
      }
    }
  })

  test('a corrupted frame fails its CRC: decoding stops there, nothing after it is read', async () => {
    const [x] = (await loadCassette('bedrock', 'test_bedrock_model_stream_with_extra_headers')).interactions
    const body = x!.responseBody.slice()
    // Flip one byte inside the first frame's payload.
    body[40] = body[40]! ^ 0xff
    const seen: string[] = []
    const frames = frameDecoder((m) => seen.push(String(m.headers[':event-type']?.value)))
    frames.push(body)
    expect(frames.broken).toBe(true)
    expect(seen).toEqual([])
    expect(usageOf([body])).toBeUndefined()
  })

  test('an invoke stream without Anthropic usage falls back to amazon-bedrock-invocationMetrics', () => {
    const metrics = { inputTokenCount: 7, outputTokenCount: 3, invocationLatency: 1, firstByteLatency: 1 }
    const frames = Buffer.concat([
      chunkFrame(JSON.stringify({ generation: 'Hi', prompt_token_count: 7 })),
      chunkFrame(JSON.stringify({ generation: '', stop_reason: 'stop', 'amazon-bedrock-invocationMetrics': metrics })),
    ])
    const u = usageOf([frames])
    expect(u?.tokens).toEqual({ input_tokens: 7, output_tokens: 3 })
    expect(u?.raw).toMatchObject({ inputTokenCount: 7, outputTokenCount: 3 })
  })
})

describe('Anthropic SSE from a Bedrock invoke stream (the one response conversion)', () => {
  const convert = (pieces: Uint8Array[]) => {
    const c = anthropicSseConverter()
    const out = [...pieces.flatMap((p) => c.push(p)), ...c.end()]
    return new TextDecoder().decode(Buffer.concat(out))
  }

  test('gives the recorded Anthropic events, whatever the split', async () => {
    const [x] = (await loadCassette('anthropic', 'test_request_stream_fallback_for_high_max_tokens')).interactions
    const frames = reframeAnthropicSse(x!.responseBody)
    const whole = convert([frames])
    const want = sseEvents(x!.responseBody).filter((e) => e.event !== 'ping')
    expect(sseEvents(whole).map((e) => [e.event, e.data])).toEqual(want.map((e) => [e.event, e.data]))
    for (let i = 0; i <= frames.length; i++) expect(convert(split(frames, [i]))).toBe(whole)
  })

  test('a stream exception becomes an Anthropic error event', async () => {
    const [x] = (await loadCassette('anthropic', 'test_request_stream_fallback_for_high_max_tokens')).interactions
    const events = sseEvents(x!.responseBody).filter((e) => e.event === 'message_start')
    const sse = events.map((e) => `event: ${e.event}\ndata: ${e.data}\n\n`).join('')
    const body = Buffer.concat([reframeAnthropicSse(sse), exceptionFrame('throttlingException', 'Too many tokens, please wait.')])
    const out = sseEvents(convert([body]))
    expect(out.map((e) => e.event)).toEqual(['message_start', 'error'])
    expect(JSON.parse(out[1]!.data)).toEqual({ type: 'error', error: { type: 'rate_limit_error', message: 'Too many tokens, please wait.' } })
  })

  test('a stream cut before message_stop ends with an error event, not silently', async () => {
    const [x] = (await loadCassette('anthropic', 'test_request_stream_fallback_for_high_max_tokens')).interactions
    const frames = reframeAnthropicSse(x!.responseBody)
    const out = sseEvents(convert([frames.slice(0, frames.length - 10)]))
    expect(out.at(-1)!.event).toBe('error')
    expect(out.filter((e) => e.event === 'message_stop')).toEqual([])
  })
})
