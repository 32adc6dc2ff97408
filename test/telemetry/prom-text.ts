/** Reads samples from a Prometheus text exposition, for assertions. */

/** The sum of the samples of `name` whose labels include `labels` (0 when none). */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue
    const m = /^([a-zA-Z_:][\w:]*)(\{(.*)\})? (\S+)$/.exec(line)
    if (!m || m[1] !== name) continue
    const have = Object.fromEntries([...(m[3] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]))
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) total += Number(m[4])
  }
  return total
}

/** Every label value `label` takes among the samples of `name`. */
export function labelValues(text: string, name: string, label: string): string[] {
  const out = new Set<string>()
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)\{(.*)\} \S+$/.exec(line)
    if (!m || m[1] !== name) continue
    for (const x of m[2]!.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) if (x[1] === label) out.add(x[2]!)
  }
  return [...out]
}
