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

export class OutputTap implements StreamObserver {
  private chars = 0

  event(_name: string | undefined, data: string): void {
    for (const m of data.matchAll(TEXT_FIELD)) this.chars += m[1]!.length
  }

  get tokens(): number {
    return Math.ceil(this.chars / CHARS_PER_TOKEN)
  }
}
