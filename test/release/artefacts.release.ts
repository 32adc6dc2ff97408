/**
 * The release artefacts (`npm run test:release`; five cross-compiled binaries, twice, so not in
 * the default `npm test`): every binary's header matches its target, every binary embeds its own
 * platform's libSQL addon and no other, the linux-x64 one passes the smoke test from an empty
 * folder, SHA256SUMS is right, the SBOM is CycloneDX, and a second build of the commit is the
 * same bytes.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { addonFor, artefactName, RELEASE_TARGETS } from '../../scripts/release'

const ROOT = join(import.meta.dir, '../..')
let a: string
let b: string

const build = (out: string) => {
  const r = Bun.spawnSync([process.execPath, 'scripts/release.ts', out], { cwd: ROOT, stdout: 'pipe', stderr: 'pipe' })
  if (r.exitCode !== 0) throw new Error(`release build failed: ${r.stderr}`)
}

beforeAll(() => {
  a = mkdtempSync(join(tmpdir(), 'tg-release-a-'))
  b = mkdtempSync(join(tmpdir(), 'tg-release-b-'))
  build(a)
  build(b)
}, 300_000)
afterAll(() => {
  rmSync(a, { recursive: true, force: true })
  rmSync(b, { recursive: true, force: true })
})

/** What the file header says: format, architecture, and for ELF the libc its interpreter names. */
function header(bytes: Buffer): string {
  if (bytes.readUInt32BE(0) === 0x7f454c46) {
    if (bytes[4] !== 2 || bytes[5] !== 1) return 'elf-not-64-bit-le'
    const machine = bytes.readUInt16LE(18)
    const arch = machine === 0x3e ? 'x64' : machine === 0xb7 ? 'arm64' : `machine-${machine}`
    // The program interpreter sits in the first pages (PT_INTERP).
    const head = bytes.subarray(0, 4096).toString('latin1')
    const libc = head.includes('/lib/ld-musl-') ? 'musl' : head.includes('/ld-linux-') ? 'glibc' : 'no-interp'
    return `elf-${arch}-${libc}`
  }
  if (bytes.readUInt32LE(0) === 0xfeedfacf) {
    const cpu = bytes.readUInt32LE(4)
    return `macho-${cpu === 0x01000007 ? 'x64' : cpu === 0x0100000c ? 'arm64' : `cpu-${cpu}`}`
  }
  return 'unknown'
}

const EXPECTED_HEADER: Record<string, string> = {
  'linux-x64': 'elf-x64-glibc',
  'linux-arm64': 'elf-arm64-glibc',
  'linux-x64-musl': 'elf-x64-musl',
  'darwin-arm64': 'macho-arm64',
  'darwin-x64': 'macho-x64',
}

test('every artefact has the file header of its target', () => {
  for (const t of RELEASE_TARGETS) {
    expect({ t: t.name, h: header(readFileSync(join(a, artefactName(t.name)))) }).toEqual({ t: t.name, h: EXPECTED_HEADER[t.name]! })
  }
})

test('every artefact embeds its own platform’s libSQL addon, and no other', () => {
  // 64 KiB from the middle of each addon: code, not a header any two could share.
  const marker = (platform: string) => {
    const addon = readFileSync(addonFor(platform))
    const mid = addon.length >> 1
    return addon.subarray(mid, mid + 65536)
  }
  const markers = Object.fromEntries(RELEASE_TARGETS.map((t) => [t.libsql, marker(t.libsql)]))
  for (const t of RELEASE_TARGETS) {
    const bin = readFileSync(join(a, artefactName(t.name)))
    const found = Object.entries(markers).filter(([, m]) => bin.includes(m)).map(([p]) => p)
    expect({ t: t.name, found }).toEqual({ t: t.name, found: [t.libsql] })
  }
}, 60_000)

test('SHA256SUMS lists every artefact with its hash; the SBOM is CycloneDX from the lockfile', () => {
  const lines = readFileSync(join(a, 'SHA256SUMS'), 'utf8').trim().split('\n')
  expect(lines.length).toBe(RELEASE_TARGETS.length)
  for (const t of RELEASE_TARGETS) {
    const hash = createHash('sha256').update(readFileSync(join(a, artefactName(t.name)))).digest('hex')
    expect(lines).toContain(`${hash}  ${artefactName(t.name)}`)
  }
  const sbom = JSON.parse(readFileSync(join(a, artefactName('').replace(/-$/, '') + '.cdx.json'), 'utf8'))
  expect(sbom.bomFormat).toBe('CycloneDX')
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8'))
  const names = new Set((sbom.components as { name: string; group?: string }[]).map((c) => (c.group ? `${c.group}/${c.name}` : c.name)))
  for (const dep of ['elysia', 'drizzle-orm', '@libsql/client', 'libsql']) {
    expect(names.has(dep)).toBe(true)
    expect(lock.packages[`node_modules/${dep}`]).toBeDefined()
  }
  // Dev tools do not ship, so they are not in the SBOM.
  expect(names.has('vite')).toBe(false)
})

test('two builds of one commit give the same checksums', () => {
  expect(readFileSync(join(b, 'SHA256SUMS'), 'utf8')).toBe(readFileSync(join(a, 'SHA256SUMS'), 'utf8'))
})

test('the linux-x64 binary passes the smoke test from an empty folder', () => {
  const r = Bun.spawnSync([process.execPath, 'scripts/smoke.ts', join(a, artefactName('linux-x64'))], { cwd: ROOT, stdout: 'pipe', stderr: 'pipe' })
  expect(r.stdout.toString()).toContain('smoke: OK')
  expect(r.exitCode).toBe(0)
}, 60_000)

test('the binary reports its build', () => {
  const r = Bun.spawnSync([join(a, artefactName('linux-x64')), 'version'], { env: { PATH: '/usr/bin:/bin' } })
  const out = r.stdout.toString()
  expect(out).toContain(`bun ${Bun.version}`)
  expect(out).toContain('target bun-linux-x64-baseline')
  expect(out).toMatch(/commit [0-9a-f]{40}/)
  expect(out).toMatch(/built \d{4}-\d\d-\d\dT/)
})
