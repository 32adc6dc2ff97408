/**
 * Runs one step that must not disturb the request (telemetry, an observer, a settlement): a
 * failure is logged under `what` and stops neither the request nor the steps after it.
 */
export function safely<T>(what: string, f: () => T): T | undefined {
  try {
    return f()
  } catch (e) {
    console.error(`${what} failed: ${(e as Error)?.message ?? e}`)
    return undefined
  }
}
