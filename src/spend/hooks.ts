/**
 * The spend side of the proxy pipeline (src/proxy/context.ts RequestHooks):
 * - `admit`: prices an upper-bound estimate and reserves it on every scope at once, or
 *   refuses (unknown model: 400; limit or credits exhausted: the provider's quota reply);
 * - `attempt`: a failed try whose provider billed it (its outcome carries usage) is charged
 *   and gets its own ledger row;
 * - `stream`: counts delivered text, for the estimate of a stream cut short;
 * - `respond`: a non-streamed JSON answer gets `x-tollgate-cost-usd` (and, with
 *   inject_cost, the cost in its usage);
 * - `settle`: exactly once per admitted request, the reservation becomes the actual cost,
 *   `record.costNanos` is set, and the ledger row is queued.
 */
import type { Attempt, AttemptOutcome, ProxyContext, RequestHooks, ResponseChange } from '../proxy/context'
import type { RequestRecord } from '../proxy/record'
import type { ReportedUsage, TokenUsage } from '../providers/types'
import { providerApi } from '../providers/registry'
import { InvalidRequestError } from '../errors'
import { type Reservation, isDenial, scopeKey } from './budget'
import { limitError } from './errors'
import { estimate, estimateUsd, isFreeOperation } from './estimate'
import { injectCost } from './inject'
import type { LedgerRow } from './ledger'
import { nanosToUsdString, usdToNanos, withMarkup } from './money'
import type { Spend } from './service'
import { OutputTap } from './tap'

interface Open {
  reservation?: Reservation
  row: LedgerRow
  inputTokens: number
  tap?: OutputTap
  /** Billed failed attempts, already charged. */
  attemptsNanos: number
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

/** How a request ended when its stream or body was cut short. */
const CUT = new Set(['client_disconnected', 'upstream_error', 'upstream_incomplete', 'upstream_stream_error', 'idle_timeout', 'total_timeout', 'upstream_body_error'])

export class SpendHooks implements RequestHooks {
  private open = new WeakMap<ProxyContext, Open>()
  /** Settlements made so far (tests check exactly one per admitted request). */
  settlements = 0

  constructor(private readonly spend: Spend) {}

  admit(ctx: ProxyContext): void {
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
      this.open.set(ctx, { row, inputTokens: 0, attemptsNanos: 0, settled: false })
      return
    }
    const model = upstream.model!
    const at = new Date(now)
    const facts = spend.pricer.facts(model, target.api.pricingProvider, target.provider.id, at)
    const rule = spend.config.pricing.unknown_model
    // "limited": refuse an unpriceable model only where a limit or prepaid credits need its price.
    if (!facts && (rule === 'reject' || (rule === 'limited' && spend.isLimited(key, ctx.user, ctx.project)))) {
      throw new InvalidRequestError(
        `Model "${model}" cannot be priced, so this gateway refuses it (pricing.unknown_model = "${rule}"${rule === 'limited' ? ': a spend limit or prepaid credits apply to this key' : ''}). ` +
          `Give it a price in config.toml: [[pricing.models]] model = "${model}", input_mtok = <USD per 1M input tokens>, ` +
          `output_mtok = <USD per 1M output tokens>; or set pricing.unknown_model = "allow".`,
        'unknown_model_price',
      )
    }
    const est = estimate({
      body: ctx.inbound.body,
      json: ctx.inbound.json,
      upstream,
      facts,
      defaultMaxOutput: spend.config.pricing.default_max_output_tokens,
      classification: ctx.classification,
      unseenContextTokens: spend.config.pricing.unseen_context_tokens,
    })
    const managed = target.provider.managed === true
    let amount = 0
    if (facts) {
      amount = withMarkup(usdToNanos(estimateUsd(facts, est)), managed ? target.provider.markup : undefined)
    }
    // Any managed target of the route needs the project's credits, whichever answers.
    const needsCredits = ctx.route.targets.some((t) => t.provider.managed === true)
    const r = spend.budget.tryReserve(spend.scopesFor(key, ctx.user, ctx.project, needsCredits), amount)
    if (isDenial(r)) {
      // Telemetry counts rejections by the scope that bound.
      ctx.record.limit = { decision: 'rejected', scope: r.scope.kind, window: r.window }
      throw limitError(r, now, spend.config.limits.timezone, target.provider.id)
    }
    row.reservedNanos = amount
    row.managed = managed
    spend.ledger.put(row)
    this.open.set(ctx, { reservation: r, row, inputTokens: est.inputTokens, attemptsNanos: 0, settled: false })
  }

  attempt(ctx: ProxyContext, attempt: Attempt): ((o: AttemptOutcome) => void) | void {
    const open = this.open.get(ctx)
    if (!open?.reservation) return
    return (o) => {
      const usage = (o as AttemptOutcome & { usage?: ReportedUsage }).usage
      if (!o.failedOver || !usage) return
      // A try that failed over, yet the provider billed it (it reported usage): charge it on its own row.
      const api = providerApi(attempt.provider.api)
      const model = usage.model ?? ctx.upstream.model ?? ''
      const price = api ? this.spend.pricer.price(usage.tokens, model, api.pricingProvider, attempt.provider.id, new Date(open.row.ts)) : null
      const managed = attempt.provider.managed === true
      const cost = withMarkup(price?.nanos ?? 0, managed ? attempt.provider.markup : undefined)
      const now = this.spend.clock()
      const scopes = open.reservation!.scopes.filter((s) => managed || !s.startsWith('credits:'))
      this.spend.budget.charge(scopes, cost, open.row.ts)
      open.attemptsNanos += cost
      const row: LedgerRow = {
        ...open.row,
        id: `${ctx.id}#${attempt.n}`,
        provider: attempt.provider.id,
        model,
        state: 'settled',
        reservedNanos: 0,
        costNanos: cost,
        providerCostNanos: price?.nanos ?? 0,
        managed,
        unpriced: !price,
        settledAt: now,
        note: 'failed_attempt',
      }
      this.spend.ledger.put(row)
      if (managed && cost > 0) this.spend.ledger.credit({ project: row.project, ts: row.ts, kind: 'usage', amountNanos: -cost, ledgerId: row.id })
    }
  }

  stream(ctx: ProxyContext): OutputTap | void {
    const open = this.open.get(ctx)
    if (!open) return
    open.tap = new OutputTap(ctx.target.api.streamFormat(ctx.upstream.flavor))
    return open.tap
  }

  respond(ctx: ProxyContext, body: Uint8Array): ResponseChange | void {
    const open = this.open.get(ctx)
    if (!open || open.settled) return
    const f = (open.final = this.finalCost(ctx, ctx.record, open))
    if (f.unpriced) return
    const usd = nanosToUsdString(f.cost + open.attemptsNanos)
    const change: ResponseChange = { headers: { 'x-tollgate-cost-usd': usd } }
    if (ctx.target.provider.inject_cost) change.body = injectCost(body, usd)
    return change
  }

  settle(ctx: ProxyContext, record: RequestRecord): void {
    const open = this.open.get(ctx)
    if (!open || open.settled) return
    open.settled = true
    this.settlements++
    const { spend } = this
    const f = open.final ?? this.finalCost(ctx, record, open)
    const now = spend.clock()
    if (open.reservation) spend.budget.settle(open.reservation, f.cost, f.managed ? undefined : scopeKey('credits', ctx.key.project))
    else if (f.cost > 0) spend.budget.charge(this.chargeScopes(ctx, f.managed), f.cost, open.row.ts)
    if (!f.unpriced) record.costNanos = f.cost + open.attemptsNanos
    if (!open.reservation && f.cost === 0 && !f.unpriced && !record.usage) return
    const row: LedgerRow = {
      ...open.row,
      provider: ctx.target.provider.id,
      model: record.usage?.model ?? record.model ?? open.row.model,
      state: f.cost > 0 || (record.usage && record.status < 300) ? 'settled' : 'released',
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

  private chargeScopes(ctx: ProxyContext, managed: boolean): string[] {
    return this.spend.scopesFor(ctx.key, ctx.user, ctx.project, managed).map((s) => scopeKey(s.kind, s.id))
  }

  /**
   * What the request costs: the provider's usage when it reported one; for a response cut
   * short, input plus the output delivered (the usage if it arrived, else an estimate);
   * for a failure without usage, nothing (released).
   */
  private finalCost(ctx: ProxyContext, record: RequestRecord, open: Open): Final {
    const { spend } = this
    const provider = ctx.target.provider
    const api = ctx.target.api
    const managed = provider.managed === true
    const at = new Date(open.row.ts)
    const model = record.usage?.model ?? ctx.upstream.model
    const cut = record.error !== undefined && CUT.has(record.error)
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
