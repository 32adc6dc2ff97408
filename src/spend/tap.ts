/**
 * Counts the generated text a streamed response has delivered, for the one case that needs
 * it: a stream cut short (client gone, upstream failure) before the provider reported usage.
 * It sees each event beside the usage reader and reads the text fields of every provider's
 * delta events (OpenAI `content`, Responses `delta`, Anthropic `text`/`thinking`/
 * `partial_json`, Gemini and Bedrock `text`) with one regex, without parsing JSON.
 * It is an estimate, and the ledger marks it so.
 */
import type { StreamObserver } from '../proxy/context'

const TEXT_FIELD = /"(?:text|content|delta|thinking|partial_json|arguments|refusal)"\s*:\s*"((?:[^"\\]|\\.)*)"/g
/** Deliberately on the high side of English text's ~4 characters per token. */
const CHARS_PER_TOKEN = 3

/**
 * Events are kept and scanned only when the count is asked for, or when this much is held:
 * most streams end with the provider's usage and are never scanned at all.
 */
const HOLD_CHARS = 64 * 1024

export class OutputTap implements StreamObserver {
  private chars = 0
  private held: string[] = []
  private heldChars = 0

  event(_name: string | undefined, data: string): void {
    this.held.push(data)
    this.heldChars += data.length
    if (this.heldChars > HOLD_CHARS) this.scan()
  }

  get tokens(): number {
    this.scan()
    return Math.ceil(this.chars / CHARS_PER_TOKEN)
  }

  private scan(): void {
    for (const data of this.held) for (const m of data.matchAll(TEXT_FIELD)) this.chars += m[1]!.length
    this.held = []
    this.heldChars = 0
  }
}
