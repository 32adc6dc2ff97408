/**
 * The suite reads nothing outside the repository: the preload guard (test/support/read-guard.ts)
 * refuses a read of ../shared, and the static check (scripts/check-test-paths.ts) flags paths
 * that leave the repo.
 */
import { describe, expect, test } from 'bun:test'
import { readdirSync, readFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, join, resolve } from 'node:path'
import { REPO_ROOT, isAllowedRead } from '../support/read-guard'
import { findEscapes } from '../../scripts/check-test-paths'

const SHARED = resolve(REPO_ROOT, '../shared/fixtures/recordings/README.md') // check-test-paths: allow

describe('read guard (preloaded for every test)', () => {
  test('a read of ../shared throws, sync and async, even if the file exists', async () => {
    expect(() => readFileSync(SHARED)).toThrow(/outside the repository/)
    expect(() => readdirSync(resolve(REPO_ROOT, '..'))).toThrow(/outside the repository/)
    await expect(readFile(SHARED)).rejects.toThrow(/outside the repository/)
  })

  test('reads inside the repo, the temp folder and system folders pass', () => {
    expect(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')).toContain('"name": "tollgate"')
    expect(isAllowedRead(join(tmpdir(), 'x'))).toBe(true)
    expect(isAllowedRead('/etc/hosts')).toBe(true)
    expect(isAllowedRead(resolve(REPO_ROOT, `../${basename(REPO_ROOT)}-sibling/package.json`))).toBe(false)
  })
})

describe('static path check', () => {
  const file = join(REPO_ROOT, 'test/support/x.ts')
  test('flags a climb above the root, /work paths and the shared fixtures', () => {
    expect(findEscapes(file, "resolve(import.meta.dir, '../../../shared/fixtures/x')")).toHaveLength(2) // check-test-paths: allow
    expect(findEscapes(file, "readFileSync('/work/other/file')")).toHaveLength(1) // check-test-paths: allow
  })
  test('passes paths that stay inside', () => {
    expect(findEscapes(file, "resolve(import.meta.dir, '../fixtures/recordings')")).toEqual([])
    expect(findEscapes(file, "resolve(import.meta.dir, '../..')")).toEqual([])
  })
})
