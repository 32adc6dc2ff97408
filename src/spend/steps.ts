/**
 * Where spend is reserved and settled: the spend steps of the request pipeline (src/proxy/pipeline.ts).
 * - `reserve` (admit): prices an upper-bound estimate and reserves it on every scope at once, or
 *   refuses (unknown model: 400; limit or credits exhausted: the provider's quota reply);
 * - `tap` (forward): counts delivered text, for the estimate of a stream cut short;
 * - `quote` (respond): a non-streamed JSON answer gets `x-tollgate-cost-usd` (and, with
 *   inject_cost, the cost in its usage);
 * - `settle`: exactly once per admitted request, the reservation becomes the actual cost,
 *   `x.costNanos` is set, and the ledger row is queued.
 * What a request holds between them is its `x.spend` (SpendHold).
 */
import type { Exchange } from '../proxy/exchange'
import { cutShort } from '../proxy/cut-short'
import type { TokenUsage } from '../providers/types'
import { InvalidRequestError } from '../errors'
import { type Reservation, isDenial, scopeKey } from './budget'
import { limitError } from './errors'
import { isFreeOperation } from './estimate'
import { upperBound } from './upper-bound'
import { injectCost } from './inject'
import type { LedgerRow } from './ledger'
import { nanosToUsdString, withMarkup } from './money'
import type { Spend } from './service'
import { OutputTap } from './tap'

/** What one admitted request holds of spend, from its reservation to its settlement. */
export interface SpendHold {
  reservation?: Reservation
  row: LedgerRow
  inputTokens: number
  tap?: OutputTap
  final?: Final
  settled: boolean
}

interface Final {
  cost: number
  providerCost: number
  managed: boolean
  estimated: boolean
  unpriced: boolean
  note?: string
}

/** A documented change to a JSON answer: headers to add, and a new body (inject_cost). */
export interface ResponseChange {
  headers?: Record<string, string>
  body?: Uint8Array
}

export class SpendSteps {
  /** Settlements made so far (tests check exactly one per admitted request). */
  settlements = 0

  constructor(private readonly spend: Spend) {}

  reserve(ctx: Exchange): void {
    const { spend } = this
    const { upstream, target, key, request } = ctx
    const now = spend.clock()
    const row: LedgerRow = {
      id: ctx.id,
      requestId: ctx.id,
      ts: now,
      keyId: key.id,
      project: key.project,
      user: key.user,
      provider: target.provider.id,
      model: upstream.model,
      state: 'reserved',
      reservedNanos: 0,
    }
    if (isFreeOperation(upstream, request.method, ctx.classification)) {
      // Nothing to reserve; a usage that still shows up is settled like any other.
      ctx.spend = { row, inputTokens: 0, settled: false }
      return
    }
    const rule = spend.config.pricing.unknown_model
    // Any managed target of the route needs the project's credits, whichever answers.
    const needsCredits = ctx.route.targets.some((t) => t.provider.managed === true)
    const managed = target.provider.managed === true
    const { amount, inputTokens } = upperBound(spend, ctx, (model) => {
      // "limited": refuse an unpriceable model only where a limit or prepaid credits need its price
      // (a managed provider always draws on credits, even a project's empty balance).
      if (rule === 'reject' || (rule === 'limited' && (needsCredits || spend.isLimited(key, ctx.user, ctx.project)))) {
        throw new InvalidRequestError(
          `Model "${model}" cannot be priced, so this gateway refuses it (pricing.unknown_model = "${rule}"${rule === 'limited' ? ': a spend limit or prepaid credits apply to this key' : ''}). ` +
            `Give it a price in config.toml: [[pricing.models]] model = "${model}", input_mtok = <USD per 1M input tokens>, ` +
            `output_mtok = <USD per 1M output tokens>; or set pricing.unknown_model = "allow".`,
          'unknown_model_price',
        )
      }
    })
    const r = spend.budget.tryReserve(spend.scopesFor(key, ctx.user, ctx.project, needsCredits), amount)
    if (isDenial(r)) {
      // Telemetry counts rejections by the scope that bound.
      ctx.limit = { decision: 'rejected', scope: r.scope.kind, window: r.window }
      throw limitError(r, now, spend.config.limits.timezone, target.provider.id)
    }
    row.reservedNanos = amount
    row.managed = managed
    spend.ledger.put(row)
    ctx.spend = { reservation: r, row, inputTokens, settled: false }
  }

  tap(ctx: Exchange): OutputTap | undefined {
    const open = ctx.spend
    if (!open) return undefined
    open.tap = new OutputTap(ctx.target.api.streamFormat(ctx.upstream.flavor))
    return open.tap
  }

  quote(ctx: Exchange, body: Uint8Array): ResponseChange | undefined {
    const open = ctx.spend
    if (!open || open.settled) return undefined
    const f = (open.final = this.finalCost(ctx, open))
    if (f.unpriced) return undefined
    const usd = nanosToUsdString(f.cost)
    const change: ResponseChange = { headers: { 'x-tollgate-cost-usd': usd } }
    if (ctx.target.provider.inject_cost) change.body = injectCost(body, usd)
    return change
  }

  settle(ctx: Exchange): void {
    const open = ctx.spend
    if (!open || open.settled) return
    open.settled = true
    this.settlements++
    const { spend } = this
    const f = open.final ?? this.finalCost(ctx, open)
    const now = spend.clock()
    if (open.reservation) spend.budget.settle(open.reservation, f.cost, f.managed ? undefined : scopeKey('credits', ctx.key.project))
    else if (f.cost > 0) spend.budget.charge(this.chargeScopes(ctx, f.managed), f.cost, open.row.ts)
    if (!f.unpriced) ctx.costNanos = f.cost
    if (!open.reservation && f.cost === 0 && !f.unpriced && !ctx.usage) return
    const row: LedgerRow = {
      ...open.row,
      provider: ctx.target.provider.id,
      model: ctx.usage?.model ?? ctx.model ?? open.row.model,
      state: f.cost > 0 || (ctx.usage && ctx.status < 300) ? 'settled' : 'released',
      costNanos: f.cost,
      providerCostNanos: f.providerCost,
      managed: f.managed,
      estimated: f.estimated,
      unpriced: f.unpriced,
      settledAt: now,
      note: f.note,
    }
    spend.ledger.put(row)
    if (f.managed && f.cost > 0) spend.ledger.credit({ project: row.project, ts: row.ts, kind: 'usage', amountNanos: -f.cost, ledgerId: row.id })
  }

  private chargeScopes(ctx: Exchange, managed: boolean): string[] {
    return this.spend.scopesFor(ctx.key, ctx.user, ctx.project, managed).map((s) => scopeKey(s.kind, s.id))
  }

  /**
   * What the request costs: the provider's usage when it reported one; for a response cut
   * short, input plus the output delivered (the usage if it arrived, else an estimate);
   * for a failure without usage, nothing (released).
   */
  private finalCost(ctx: Exchange, open: SpendHold): Final {
    const record = ctx
    const { spend } = this
    const provider = ctx.target.provider
    const api = ctx.target.api
    const managed = provider.managed === true
    const at = new Date(open.row.ts)
    const model = record.usage?.model ?? ctx.upstream.model ?? ctx.classification?.model
    const cut = cutShort(record.error)
    let tokens: TokenUsage | undefined = record.usage?.tokens
    let estimated = false
    let note: string | undefined = cut ? record.error : undefined
    if (cut && open.reservation) {
      const delivered = open.tap?.tokens ?? 0
      const reported = tokens?.output_tokens ?? 0
      if (!tokens || delivered > reported || !tokens.input_tokens) {
        estimated = true
        tokens = { ...tokens, input_tokens: tokens?.input_tokens || open.inputTokens, output_tokens: Math.max(reported, delivered) }
      }
    }
    // Passthrough paths are priced by nobody: recorded as unpriced.
    if (ctx.classification?.class === 'passthrough') return { cost: 0, providerCost: 0, managed, estimated: false, unpriced: true, note: 'passthrough' }
    if (!tokens || !model) return { cost: 0, providerCost: 0, managed, estimated: false, unpriced: false, note: note ?? (record.status >= 400 ? 'released' : undefined) }
    const price =
      spend.pricer.price(tokens, model, api.pricingProvider, provider.id, at) ??
      (ctx.upstream.model && ctx.upstream.model !== model ? spend.pricer.price(tokens, ctx.upstream.model, api.pricingProvider, provider.id, at) : null)
    if (!price) return { cost: 0, providerCost: 0, managed, estimated, unpriced: true, note: note ?? 'unpriced' }
    return { cost: withMarkup(price.nanos, managed ? provider.markup : undefined), providerCost: price.nanos, managed, estimated, unpriced: false, note }
  }
}
