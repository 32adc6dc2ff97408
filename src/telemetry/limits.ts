/** The spend-limit verdict of a request, for spans and the rejections metric. */
import type { LimitDecision, RequestRecord } from '../proxy/record'

const SCOPES = ['project', 'user', 'key', 'credits'] as const

/**
 * The decision the spend step recorded, or one inferred from a limit error code (so a
 * rejection is counted even before the spend step says which scope bound).
 */
export function limitDecision(r: RequestRecord): LimitDecision | undefined {
  if (r.limit) return r.limit
  const code = r.error
  if (!code || !/limit|budget|quota|credit/.test(code) || code.startsWith('upstream_')) return undefined
  const scope = SCOPES.find((s) => code.includes(s === 'credits' ? 'credit' : s)) ?? 'unknown'
  return { decision: 'rejected', scope }
}
