/**
 * A throw-away certificate authority for TLS tests: a CA and leaf certificates for localhost /
 * 127.0.0.1 signed by it, made with the `openssl` CLI in a temporary folder. Clients trust the
 * CA (`ca` option, or NODE_EXTRA_CA_CERTS for a child process), never the system store.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface TestCa {
  dir: string
  /** The CA certificate (PEM) and its file. */
  ca: string
  caFile: string
  /** Issues `<name>.pem` / `<name>.key` in `dir` for localhost and 127.0.0.1, with `CN=<name>`. */
  issue(name: string): Promise<{ cert: string; key: string; certFile: string; keyFile: string }>
  remove(): void
}

async function openssl(args: string[], cwd: string): Promise<void> {
  const p = Bun.spawn(['openssl', ...args], { cwd, stdout: 'ignore', stderr: 'pipe' })
  const [code, err] = await Promise.all([p.exited, new Response(p.stderr).text()])
  if (code !== 0) throw new Error(`openssl ${args[0]} failed: ${err}`)
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes']

export async function createTestCa(): Promise<TestCa> {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-ca-'))
  await openssl(['req', '-x509', ...EC, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=Tollgate Test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign'], dir)
  writeFileSync(join(dir, 'leaf.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n')
  let serial = 1
  return {
    dir,
    ca: readFileSync(join(dir, 'ca.pem'), 'utf8'),
    caFile: join(dir, 'ca.pem'),
    async issue(name) {
      await openssl(['req', ...EC, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`], dir)
      await openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-set_serial', String(serial++),
        '-out', `${name}.pem`, '-days', '2', '-extfile', 'leaf.ext'], dir)
      const certFile = join(dir, `${name}.pem`)
      const keyFile = join(dir, `${name}.key`)
      return { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8'), certFile, keyFile }
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  }
}
