/**
 * Test preload (bunfig.toml): the suite reads nothing outside the repository. Reads through
 * node:fs and Bun.file of a path outside the repo root throw, so a test that quietly depends
 * on ../shared (or another checkout) fails here rather than in a standalone clone.
 * System and temporary folders stay readable: tools and servers the tests start need them.
 */
import { mock } from 'bun:test'
import fs from 'node:fs'
import { homedir, tmpdir } from 'node:os'
import { resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

export const REPO_ROOT = resolve(import.meta.dir, '../..')

const SYSTEM = ['/tmp', '/dev', '/proc', '/sys', '/etc', '/usr', '/lib', '/lib64', '/bin', '/sbin', '/opt', '/var', '/run', '/nix']

function roots(): string[] {
  return [REPO_ROOT, tmpdir(), homedir(), ...SYSTEM].filter(Boolean).map((r) => resolve(r))
}

function under(path: string, root: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep)
}

export function isAllowedRead(target: unknown): boolean {
  let p: string
  if (typeof target === 'string') p = target
  else if (target instanceof URL) {
    if (target.protocol !== 'file:') return true
    p = fileURLToPath(target)
  } else if (target instanceof Uint8Array) p = Buffer.from(target).toString()
  else return true // file descriptors, Blobs: opened elsewhere
  const abs = resolve(p)
  // The repo's siblings (../shared, other checkouts) stay out even when the repo sits in /tmp.
  if (under(abs, resolve(REPO_ROOT, '..')) && !under(abs, REPO_ROOT)) return false
  return roots().some((r) => under(abs, r))
}

export class OutsideRepoRead extends Error {
  constructor(target: unknown) {
    super(`test read outside the repository: ${String(target)} (copy the file under ${REPO_ROOT})`)
  }
}

function check(target: unknown): void {
  if (!isAllowedRead(target)) throw new OutsideRepoRead(target)
}

type AnyFn = (...args: any[]) => any
function wrap<T extends object>(obj: T, names: string[], async = false): void {
  for (const name of names) {
    const original = (obj as Record<string, AnyFn>)[name]
    if (typeof original !== 'function') continue
    const guarded = function (this: unknown, target: unknown, ...rest: unknown[]) {
      if (async && !isAllowedRead(target)) return Promise.reject(new OutsideRepoRead(target))
      check(target)
      return original.call(this, target, ...rest)
    }
    Object.defineProperty(obj, name, { value: guarded, writable: true, configurable: true })
  }
}

const READS = ['readFileSync', 'readFile', 'readdirSync', 'readdir', 'openSync', 'open', 'createReadStream', 'opendirSync', 'opendir']
wrap(fs, READS)
wrap(fs.promises, ['readFile', 'readdir', 'open', 'opendir'], true)
// Named imports (`import { readFileSync } from 'node:fs'`) bind at load: re-export the guarded ones.
mock.module('node:fs', () => ({ ...fs, default: fs }))
mock.module('fs', () => ({ ...fs, default: fs }))
mock.module('node:fs/promises', () => ({ ...fs.promises, default: fs.promises }))
mock.module('fs/promises', () => ({ ...fs.promises, default: fs.promises }))
// Bun.file is a read-only property in Bun 1.4, so it cannot be wrapped here; the static check
// (scripts/check-test-paths.ts) covers paths given to it.
