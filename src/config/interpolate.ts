/**
 * `${VAR}`, `${VAR:-default}` and `${file:PATH}` in config strings. Interpolation runs on
 * parsed values, not on TOML text, so a secret containing quotes cannot break the file.
 */
import { readFile } from 'node:fs/promises'

export interface InterpolationProblem {
  path: string
  message: string
}

const PATTERN = /\$\{([^}]*)\}/g

export async function interpolate(
  value: unknown,
  env: Record<string, string | undefined>,
  problems: InterpolationProblem[],
  path = '',
): Promise<unknown> {
  if (typeof value === 'string') return interpolateString(value, env, problems, path)
  if (Array.isArray(value)) {
    return Promise.all(value.map((v, i) => interpolate(v, env, problems, `${path}[${i}]`)))
  }
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) {
      out[k] = await interpolate(v, env, problems, path ? `${path}.${k}` : k)
    }
    return out
  }
  return value
}

async function interpolateString(
  s: string,
  env: Record<string, string | undefined>,
  problems: InterpolationProblem[],
  path: string,
): Promise<string> {
  if (!s.includes('${')) return s
  const parts: Promise<string>[] = []
  let last = 0
  for (const m of s.matchAll(PATTERN)) {
    parts.push(Promise.resolve(s.slice(last, m.index)))
    parts.push(resolveOne(m[1]!, env, problems, path))
    last = m.index! + m[0].length
  }
  parts.push(Promise.resolve(s.slice(last)))
  return (await Promise.all(parts)).join('')
}

async function resolveOne(
  expr: string,
  env: Record<string, string | undefined>,
  problems: InterpolationProblem[],
  path: string,
): Promise<string> {
  if (expr.startsWith('file:')) {
    const file = expr.slice(5)
    try {
      // A trailing newline in a secret file is never part of the secret.
      return (await readFile(file, 'utf8')).replace(/\r?\n$/, '')
    } catch (e) {
      problems.push({ path, message: `cannot read secret file ${file}: ${(e as NodeJS.ErrnoException).code ?? 'error'}` })
      return ''
    }
  }
  const sep = expr.indexOf(':-')
  const name = sep >= 0 ? expr.slice(0, sep) : expr
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    problems.push({ path, message: `invalid interpolation \${${expr}}` })
    return ''
  }
  const v = env[name]
  if (v !== undefined && v !== '') return v
  if (sep >= 0) return expr.slice(sep + 2)
  problems.push({ path, message: `environment variable ${name} is not set (use \${${name}:-} to allow empty)` })
  return ''
}
