/** Shared set-up for spend tests: a gateway over the scripted upstream, and budget probes. */
import OpenAI from 'openai'
import { scopeKey, type ScopeKind } from '../../src/spend/budget'
import type { WindowKind } from '../../src/spend/windows'
import { startGateway, type TestGateway } from '../support/gateway'
import type { GatewayOptions } from '../../src/gateway'

export function openaiProvider(url: string, extra = ''): string {
  return `[[providers]]\nid = "openai"\napi = "openai"\nbase_url = "${url}/v1"\napi_key = "sk-test-upstream"\n${extra}\n`
}

export async function spendGateway(toml: string, opts: GatewayOptions = {}): Promise<TestGateway> {
  const quiet = console.log
  console.log = () => {}
  try {
    return await startGateway(toml, opts)
  } finally {
    console.log = quiet
  }
}

export function openai(gw: TestGateway, key: string): OpenAI {
  return new OpenAI({ apiKey: key, baseURL: `${gw.url}/openai`, maxRetries: 0 })
}

export function windowOf(gw: TestGateway, kind: ScopeKind, id: string, w: WindowKind = 'total') {
  return gw.gw.spend.budget.state(scopeKey(kind, id)).windows[w]
}

export function inflight(gw: TestGateway, kind: ScopeKind, id: string): number {
  return gw.gw.spend.budget.state(scopeKey(kind, id)).inflight
}

/** Rows of the spend ledger after a flush. */
export async function ledgerRows(gw: TestGateway) {
  await gw.gw.spend.ledger.flush()
  const { spendLedger } = await import('../../src/db/schema-spend')
  return gw.gw.database.db.select().from(spendLedger)
}

/** Runs `f` until it returns true or `ms` pass (for work that ends after the client has its answer). */
export async function eventually(f: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const until = Date.now() + ms
  while (!(await f())) {
    if (Date.now() > until) throw new Error('condition not met in time')
    await Bun.sleep(5)
  }
}
