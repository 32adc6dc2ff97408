/** Small helpers the api plugins share for reading a JSON request body. */
import { InvalidRequestError } from '../../errors'
import type { InboundRequest } from '../types'

/** The JSON body of a request that must have one (POST to a model endpoint). */
export function requireJson(req: InboundRequest): Record<string, unknown> {
  if (!req.json) throw new InvalidRequestError('Request body must be a JSON object.', 'invalid_json')
  return req.json
}

export function stringField(json: Record<string, unknown> | undefined, name: string): string | undefined {
  const v = json?.[name]
  return typeof v === 'string' ? v : undefined
}

/** Joins a base URL and a relative path without doubling or losing slashes. */
export function joinUrl(base: string, path: string, search = ''): string {
  return `${base.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}${search}`
}
