/** .github/workflows/release.yml is a valid workflow (action-validator's schema) that builds, tests and attaches. */
import { expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { validateWorkflow } from '@action-validator/core'

const ROOT = join(import.meta.dir, '../..')
const src = readFileSync(join(ROOT, '.github/workflows/release.yml'), 'utf8')

test('the release workflow passes the GitHub Actions schema', () => {
  expect(validateWorkflow(src).errors).toEqual([])
})

test('the validator refuses a broken workflow (so the check above can fail)', () => {
  expect(validateWorkflow(src.replace('runs-on: ubuntu-24.04', 'runs_on: ubuntu-24.04')).errors.length).toBeGreaterThan(0)
})

test('on a tag it builds, tests and attaches dist/release', () => {
  const wf = Bun.YAML.parse(src) as { on: { push: { tags: string[] } }; jobs: Record<string, { steps: { run?: string }[] }> }
  expect(wf.on.push.tags).toEqual(['v*'])
  const runs = Object.values(wf.jobs).flatMap((j) => j.steps.map((s) => s.run ?? ''))
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
  for (const script of ['release', 'test:release']) {
    expect(runs).toContain(`npm run ${script}`)
    expect(pkg.scripts[script]).toBeDefined()
  }
  expect(runs.some((r) => r.includes('gh release create') && r.includes('dist/release/*'))).toBe(true)
})
