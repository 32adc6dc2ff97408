/**
 * Counts the generated text a streamed response has delivered, for the one case that needs
 * it: a stream cut short (client gone, upstream failure, no final event) before the provider
 * reported usage. It sees each event beside the usage reader; the format says how many
 * characters of output an event carries (ProviderApi.streamFormat), so nothing here knows a
 * provider's fields. It is an estimate, and the ledger marks it so.
 */
import type { StreamObserver } from '../proxy/exchange'
import type { StreamFormat } from '../providers/types'

/** Deliberately on the high side of English text's ~4 characters per token. */
const CHARS_PER_TOKEN = 3

/**
 * Events are kept and scanned only when the count is asked for, or when this much is held:
 * most streams end with the provider's usage and are never scanned at all.
 */
const HOLD_CHARS = 64 * 1024

export class OutputTap implements StreamObserver {
  private chars = 0
  private names: (string | undefined)[] = []
  private held: string[] = []
  private heldChars = 0

  constructor(private readonly format: Pick<StreamFormat, 'outputChars'>) {}

  event(name: string | undefined, data: string): void {
    this.names.push(name)
    this.held.push(data)
    this.heldChars += data.length
    if (this.heldChars > HOLD_CHARS) this.scan()
  }

  get tokens(): number {
    this.scan()
    return Math.ceil(this.chars / CHARS_PER_TOKEN)
  }

  private scan(): void {
    for (let i = 0; i < this.held.length; i++) this.chars += this.format.outputChars(this.names[i], this.held[i]!)
    this.names = []
    this.held = []
    this.heldChars = 0
  }
}
