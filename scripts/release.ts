/**
 * `npm run release`: cross-compiles the gateway for every release target into dist/release/:
 * tollgate-<version>-<os>-<arch>, SHA256SUMS and a CycloneDX SBOM of the lockfile.
 *
 * Bun takes each target's runtime from npm (@oven/bun-<target>, cached in ~/.bun/install/cache).
 * Each binary embeds libSQL's addon for its own platform: the @libsql/<platform> package at the
 * version the lockfile pins, fetched with `npm pack` and checked against the lockfile's integrity.
 */
import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { buildUi } from './build-ui'
import { compile } from './lib/compile'
import pkg from '../package.json'

export const RELEASE_TARGETS = [
  { bun: 'bun-linux-x64-baseline', name: 'linux-x64', libsql: 'linux-x64-gnu' },
  { bun: 'bun-linux-arm64', name: 'linux-arm64', libsql: 'linux-arm64-gnu' },
  { bun: 'bun-linux-x64-musl', name: 'linux-x64-musl', libsql: 'linux-x64-musl' },
  { bun: 'bun-darwin-arm64', name: 'darwin-arm64', libsql: 'darwin-arm64' },
  { bun: 'bun-darwin-x64', name: 'darwin-x64', libsql: 'darwin-x64' },
] as const

const ROOT = join(import.meta.dir, '..')
const OUT = join(ROOT, 'dist/release')
const CACHE = join(ROOT, 'dist/.cache/libsql')

/** dist/.cache/libsql/<platform>/index.node, fetched once; its tarball must match the lockfile. */
export function addonFor(platform: string): string {
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8'))
  const entry = lock.packages[`node_modules/@libsql/${platform}`] as { version: string; integrity: string } | undefined
  if (!entry) throw new Error(`@libsql/${platform} is not in package-lock.json`)
  const dir = join(CACHE, `${platform}-${entry.version}`)
  const addon = join(dir, 'package/index.node')
  if (existsSync(addon)) return addon
  mkdirSync(dir, { recursive: true })
  const pack = Bun.spawnSync(['npm', 'pack', `@libsql/${platform}@${entry.version}`, '--pack-destination', dir, '--json', '--silent'], { cwd: dir })
  if (pack.exitCode !== 0) throw new Error(`npm pack @libsql/${platform}: ${pack.stderr}`)
  const [info] = JSON.parse(pack.stdout.toString()) as { filename: string }[]
  const tgz = join(dir, info!.filename)
  const [algo, want] = entry.integrity.split('-') as [string, string]
  const got = createHash(algo).update(readFileSync(tgz)).digest('base64')
  if (got !== want) throw new Error(`@libsql/${platform}: tarball ${algo} ${got} is not the lockfile's ${want}`)
  const untar = Bun.spawnSync(['tar', '-xzf', tgz, '-C', dir])
  if (untar.exitCode !== 0 || !existsSync(addon)) throw new Error(`unpacking ${tgz}: ${untar.stderr}`)
  return addon
}

export const artefactName = (name: string) => `tollgate-${pkg.version}-${name}`

export async function release(out = OUT): Promise<void> {
  rmSync(out, { recursive: true, force: true })
  mkdirSync(out, { recursive: true })
  await buildUi()
  const sums: string[] = []
  for (const t of RELEASE_TARGETS) {
    const started = performance.now()
    const file = join(out, artefactName(t.name))
    await compile({ outfile: file, target: t.bun, addon: addonFor(t.libsql) })
    const hash = createHash('sha256').update(readFileSync(file)).digest('hex')
    sums.push(`${hash}  ${artefactName(t.name)}`)
    console.log(`${artefactName(t.name)}: ${t.bun}, @libsql/${t.libsql}, ${((performance.now() - started) / 1000).toFixed(1)} s`)
  }
  writeFileSync(join(out, 'SHA256SUMS'), sums.join('\n') + '\n')
  // The SBOM of what ships: production dependencies as the lockfile pins them.
  const sbom = join(out, `tollgate-${pkg.version}.cdx.json`)
  const cdx = Bun.spawnSync(
    [join(ROOT, 'node_modules/.bin/cyclonedx-npm'), '--package-lock-only', '--omit', 'dev', '--output-reproducible', '--spec-version', '1.6', '--output-format', 'JSON', '--output-file', sbom],
    { cwd: ROOT, stderr: 'pipe' },
  )
  if (cdx.exitCode !== 0) throw new Error(`cyclonedx-npm: ${cdx.stderr}`)
  console.log(`${out}: ${RELEASE_TARGETS.length} binaries, SHA256SUMS, ${sbom.split('/').pop()}`)
}

if (import.meta.main) await release(process.argv[2] ? resolve(process.argv[2]) : OUT)
