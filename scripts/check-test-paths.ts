/**
 * CI check: nothing in test/ or scripts/ names a path outside the repository. Flags absolute
 * /work paths, the steering repo's fixture folder, and relative string literals that climb
 * above the repo root from the file they sit in. A line may opt out with `check-test-paths: allow` (the guard's own
 * test reads ../shared on purpose). The runtime half is test/support/read-guard.ts.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'

const ROOT = resolve(import.meta.dir, '..')
const DIRS = ['test', 'scripts']
const EXT = /\.(ts|tsx|js|mjs|cjs|json|toml|sh)$/

function files(dir: string): string[] {
  const out: string[] = []
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'fixtures') continue
    const p = join(dir, name)
    if (statSync(p).isDirectory()) out.push(...files(p))
    else if (EXT.test(name)) out.push(p)
  }
  return out
}

export function findEscapes(file: string, text: string): string[] {
  const problems: string[] = []
  text.split('\n').forEach((line, i) => {
    if (line.includes('check-test-paths: allow')) return
    const where = `${relative(ROOT, file)}:${i + 1}`
    if (/['"`]\/work\//.test(line)) problems.push(`${where}: absolute /work path`)
    if (/shared\/fixtures/.test(line)) problems.push(`${where}: reads the shared fixtures`) // check-test-paths: allow
    for (const m of line.matchAll(/['"`]((?:\.\.\/)+[^'"`]*|\.\.)['"`]/g)) {
      const target = resolve(dirname(file), m[1]!)
      if (relative(ROOT, target).startsWith('..')) problems.push(`${where}: '${m[1]}' leaves the repository`)
    }
  })
  return problems
}

if (import.meta.main) {
  const problems = DIRS.flatMap((d) => files(join(ROOT, d))).flatMap((f) => findEscapes(f, readFileSync(f, 'utf8')))
  for (const p of problems) console.error(p)
  if (problems.length) {
    console.error(`${problems.length} path(s) outside the repository in test/ or scripts/`)
    process.exit(1)
  }
  console.log('check-test-paths: no test or script names a path outside the repository')
}
