/** The `model` form field of a multipart body (audio transcriptions, image edits), read from the buffered body. */
import { getMultipartBoundary, parseMultipart } from '@remix-run/multipart-parser'
import { InvalidRequestError } from '../../errors'
import type { InboundRequest } from '../types'

export function multipartModel(req: InboundRequest): string | undefined {
  const boundary = getMultipartBoundary(req.headers.get('content-type') ?? '')
  if (!boundary || !req.body) throw new InvalidRequestError('This endpoint takes a multipart/form-data body with a model field.', 'invalid_multipart')
  try {
    // Parses the buffer readBody already holds: the upload is not copied again.
    for (const part of parseMultipart(req.body, { boundary })) if (part.name === 'model') return part.text
  } catch {
    throw new InvalidRequestError('The multipart body could not be parsed.', 'invalid_multipart')
  }
  return undefined
}
