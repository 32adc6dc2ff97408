/**
 * Runs one hook or sink of the request path: a failure in one is logged under `what` and
 * stops neither the request nor the hooks and sinks after it.
 */
export function safely(what: string, f: () => void): void {
  try {
    f()
  } catch (e) {
    console.error(`${what} failed: ${(e as Error)?.message ?? e}`)
  }
}
