/**
 * Bedrock's provider-side objects: none of its own on the gateway (async invocations are
 * refused, endpoints.ts). Anthropic-format bodies may still name a code-execution container
 * (`container`); all projects share one AWS account, so a container is reachable only by the
 * project whose answer named it, read as Anthropic's (src/providers/anthropic/objects.ts).
 */
import { anthropicObjects } from '../anthropic/objects'
import type { ObjectFormat } from '../types'

export const bedrockObjects: ObjectFormat = {
  createdObject: () => undefined,
  yielded: anthropicObjects.yielded,
  filterList: () => undefined,
  emptyList: () => ({}),
  references: (json) => (anthropicObjects.references?.(json) ?? []).filter((r) => r.kind === 'container'),
  notFoundMessage: (kind, id) => anthropicObjects.notFoundMessage(kind, id),
}
