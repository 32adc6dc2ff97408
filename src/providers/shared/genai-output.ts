/**
 * A streamed answer reassembled into the conventions' output messages, one per choice, as a
 * format's stream reader feeds it (text and reasoning appended, tool calls and their arguments).
 * Used only when content capture is on.
 */
import type { GenAiMessage, GenAiPart } from '../types'

export class OutputAccumulator {
  private choices = new Map<number, { parts: Map<number, GenAiPart>; finish?: string }>()

  private choice(i: number) {
    let c = this.choices.get(i)
    if (!c) this.choices.set(i, (c = { parts: new Map() }))
    return c
  }

  finish(i: number, reason: string): void {
    this.choice(i).finish = reason
  }

  /** Appends text (or reasoning) to block `block` of choice `i`. */
  text(i: number, block: number, type: 'text' | 'reasoning', s: unknown): void {
    if (typeof s !== 'string') return
    const parts = this.choice(i).parts
    const p = parts.get(block)
    if (p && p.type === type) p.content = `${p.content as string}${s}`
    else if (!p) parts.set(block, { type, content: s })
  }

  /** Opens a tool call at `block` (its arguments follow in args). */
  toolCall(i: number, block: number, id: string | undefined, name: string | undefined): void {
    this.choice(i).parts.set(block, { type: 'tool_call', id, name, arguments: '' })
  }

  has(i: number, block: number): boolean {
    return this.choice(i).parts.has(block)
  }

  /** A whole part after the others (Gemini sends function calls complete). */
  add(i: number, part: GenAiPart): void {
    const parts = this.choice(i).parts
    parts.set(parts.size, part)
  }

  /** Appends streamed tool-call arguments. */
  args(i: number, block: number, s: unknown): void {
    const p = this.choice(i).parts.get(block)
    if (p && p.type === 'tool_call' && typeof s === 'string') p.arguments = `${(p.arguments as string) ?? ''}${s}`
  }

  messages(): GenAiMessage[] {
    return [...this.choices.entries()]
      .sort(([a], [b]) => a - b)
      .map(([, c]) => ({
        role: 'assistant',
        parts: [...c.parts.entries()].sort(([a], [b]) => a - b).map(([, p]) => p),
        ...(c.finish ? { finish_reason: c.finish } : {}),
      }))
  }
}
