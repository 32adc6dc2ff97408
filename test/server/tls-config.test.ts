/** [server] tls_cert / tls_key problems are config problems: named, no stack trace, exit 2. */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ConfigError, parseConfig } from '../../src/config/load'
import { cli } from '../support/cli'
import { createTestCa, type TestCa } from '../support/tls'

let ca: TestCa
beforeAll(async () => {
  ca = await createTestCa()
})
afterAll(() => ca.remove())

test('tls_cert without tls_key (and the reverse) is refused at load', async () => {
  for (const [set, missing] of [['tls_cert', 'server.tls_key'], ['tls_key', 'server.tls_cert']]) {
    const err = await parseConfig(`[server]\n${set} = "/x.pem"\n`, 'config.toml', {}).catch((e) => e)
    expect(err).toBeInstanceOf(ConfigError)
    expect((err as ConfigError).problems.map((p) => p.path)).toContain(missing!)
  }
})

async function serveWith(name: string, cert: string, key: string) {
  const config = join(ca.dir, `${name}.toml`)
  writeFileSync(config, `[server]\ntls_cert = "${cert}"\ntls_key = "${key}"\n\n[database]\nurl = "file:${join(ca.dir, `${name}.db`)}"\n`)
  return cli(['serve', '--config', config, '--listen', '127.0.0.1:0'], { env: { BUN_CONFIG_MAX_HTTP_REQUESTS: '1024', TOLLGATE_OTEL: '' } })
}

test('serve with a certificate file that is not there exits 2 naming the field and file', async () => {
  const r = await serveWith('missing', join(ca.dir, 'nope.pem'), join(ca.dir, 'nope.key'))
  expect(r.code).toBe(2)
  expect(r.stderr).toContain(`server.tls_cert: cannot read ${join(ca.dir, 'nope.pem')}`)
  expect(r.stderr).toContain(`server.tls_key: cannot read ${join(ca.dir, 'nope.key')}`)
  expect(r.stderr).not.toContain('    at ')
  expect(r.stdout).not.toContain('listening on')
})

test('serve with a key that does not belong to the certificate exits 2', async () => {
  const a = await ca.issue('pair-a')
  const b = await ca.issue('pair-b')
  const r = await serveWith('mismatch', a.certFile, b.keyFile)
  expect(r.code).toBe(2)
  expect(r.stderr).toContain('server.tls_cert:')
  expect(r.stderr).toContain('not a usable certificate and key')
  expect(r.stderr).not.toContain('    at ')
})
