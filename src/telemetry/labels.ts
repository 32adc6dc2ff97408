/**
 * Bounded label values. Some labels come from clients (the requested model, a route name in
 * the URL), so each label keeps at most `max` distinct values and maps the rest to "other";
 * values are redacted and cut short. Key ids and request ids are never labels.
 */
import type { Redactor } from './redact'

const MAX_LENGTH = 96
/** Raw values longer than this are never kept (they map to "other"): a label's memory stays bounded in bytes too. */
const MAX_RAW = 256

export class LabelGuard {
  private readonly seen = new Map<string, Map<string, string>>()
  private generation: number

  constructor(
    private readonly redactor: Redactor,
    private readonly max = 200,
  ) {
    this.generation = redactor.generation
  }

  value(label: string, v: string | undefined): string {
    if (v === undefined || v === '') return 'none'
    if (v.length > MAX_RAW) return 'other'
    // New secrets (a config reload): values cleaned under the old ones are cleaned again.
    if (this.generation !== this.redactor.generation) this.reclean()
    let values = this.seen.get(label)
    if (!values) this.seen.set(label, (values = new Map()))
    const known = values.get(v)
    if (known !== undefined) return known
    if (values.size >= this.max) return 'other'
    const clean = this.clean(v)
    values.set(v, clean)
    return clean
  }

  /** Raw values held, over every label (tests check the bound). */
  get held(): { values: number; chars: number } {
    let values = 0
    let chars = 0
    for (const m of this.seen.values()) for (const k of m.keys()) (values++, (chars += k.length))
    return { values, chars }
  }

  private clean(v: string): string {
    return this.redactor.text(v).slice(0, MAX_LENGTH)
  }

  private reclean(): void {
    this.generation = this.redactor.generation
    for (const values of this.seen.values()) for (const v of values.keys()) values.set(v, this.clean(v))
  }
}

/** `2xx`, `4xx`, `5xx`; `none` when no status was set. */
export function statusClass(status: number): string {
  return status >= 100 && status < 600 ? `${Math.floor(status / 100)}xx` : 'none'
}
