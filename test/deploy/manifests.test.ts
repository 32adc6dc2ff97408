/**
 * deploy/: the Kubernetes manifests pass kubernetes-models' schemas, compose.yaml passes the
 * Compose Specification's schema, the ConfigMaps' config.toml pass `check-config`, and the
 * sidecar layout holds (probes on /ready, grace period above the drain, keys from the Secret).
 */
import { describe, expect, test } from 'bun:test'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Ajv2019 from 'ajv/dist/2019'
import { ConfigMap, Secret, Service } from 'kubernetes-models/v1'
import { Deployment } from 'kubernetes-models/apps/v1'
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1'
import { cli } from '../support/cli'

const ROOT = join(import.meta.dir, '../..')
const read = (p: string) => readFileSync(join(ROOT, p), 'utf8')
const docs = (p: string) => read(p).split(/^---$/m).map((d) => Bun.YAML.parse(d) as Record<string, any>)
const MODELS: Record<string, new (x: any) => { validate(): void }> = { ConfigMap, Secret, Service, Deployment, PodDisruptionBudget }

/** Throws with the schema's complaint when a manifest is not a valid object of its kind. */
function validate(doc: Record<string, any>): void {
  const Model = MODELS[doc.kind]
  if (!Model) throw new Error(`no schema for ${doc.kind}`)
  new Model(doc).validate()
}

describe.each(['deploy/kubernetes/sidecar.yaml', 'deploy/kubernetes/replicas.yaml'])('%s', (file) => {
  const all = docs(file)
  const deployment = all.find((d) => d.kind === 'Deployment')!
  const pod = deployment.spec.template.spec
  const tollgate = pod.containers.find((c: { name: string }) => c.name === 'tollgate')

  test('every manifest passes the Kubernetes schema', () => {
    for (const d of all) expect(() => validate(d)).not.toThrow()
  })

  test('the schema check can fail', () => {
    const broken = structuredClone(deployment)
    broken.spec.replicas = 'three'
    expect(() => validate(broken)).toThrow()
  })

  test('probes on /ready and /health, grace above the 30 s drain, keys from the Secret, the fetch limit set', () => {
    expect(JSON.stringify(tollgate.readinessProbe)).toContain('/ready')
    expect(JSON.stringify(tollgate.livenessProbe)).toContain('/health')
    const drain = Number(/shutdown_grace_seconds = (\d+)/.exec(all.find((d) => d.kind === 'ConfigMap')!.data['config.toml'])![1])
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(drain)
    expect(tollgate.envFrom).toEqual([{ secretRef: { name: all.find((d) => d.kind === 'Secret')!.metadata.name } }])
    expect(tollgate.env).toContainEqual({ name: 'BUN_CONFIG_MAX_HTTP_REQUESTS', value: '65336' })
    expect(tollgate.securityContext.readOnlyRootFilesystem).toBe(true)
  })

  test('the ConfigMap’s config.toml passes check-config with the Secret’s values', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tg-k8s-'))
    try {
      const cfg = join(dir, 'config.toml')
      // The database URL names /data or a remote server: check-config does not open it.
      writeFileSync(cfg, all.find((d) => d.kind === 'ConfigMap')!.data['config.toml'])
      const r = await cli(['check-config', '--config', cfg], { env: all.find((d) => d.kind === 'Secret')!.stringData })
      expect(r.stderr).toBe('')
      expect(r.code).toBe(0)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

test('the sidecar: the app reaches Tollgate on the pod’s loopback with a gateway key, never a provider key', () => {
  const pod = docs('deploy/kubernetes/sidecar.yaml').find((d) => d.kind === 'Deployment')!.spec.template.spec
  const app = pod.containers.find((c: { name: string }) => c.name === 'app')
  expect(app.env).toContainEqual({ name: 'OPENAI_BASE_URL', value: 'http://127.0.0.1:8787/openai' })
  expect(app.env).toContainEqual({ name: 'OPENAI_API_KEY', valueFrom: { secretKeyRef: { name: 'tollgate-secrets', key: 'TOLLGATE_APP_KEY' } } })
  expect(app.envFrom).toBeUndefined()
})

describe('deploy/compose.yaml', () => {
  const ajv = new Ajv2019({ strict: false, validateFormats: false, validateSchema: false, allErrors: true })
  // The schema names itself and its definitions with draft-04's `id` (a string), which ajv
  // refuses; drop those names (a property called id has an object as its value and stays).
  const schema = JSON.parse(read('test/fixtures/compose-spec/compose-spec.json'), (k, v) => (k === 'id' && typeof v === 'string' ? undefined : v))
  const check = ajv.compile(schema)
  const compose = Bun.YAML.parse(read('deploy/compose.yaml')) as Record<string, any>

  test('passes the Compose Specification schema (and the check can fail)', () => {
    expect(check(compose) ? [] : check.errors).toEqual([])
    expect(check({ ...compose, services: { tollgate: { ...compose.services.tollgate, stop_grace_period: 45 } } })).toBe(false)
  })

  test('the app shares Tollgate’s network and waits for it to be healthy; streams get a grace period', () => {
    expect(compose.services.app.network_mode).toBe('service:tollgate')
    expect(compose.services.app.depends_on.tollgate.condition).toBe('service_healthy')
    expect(compose.services.app.environment.OPENAI_BASE_URL).toBe('http://127.0.0.1:8787/openai')
    expect(compose.services.tollgate.stop_grace_period).toBe('45s')
  })
})
