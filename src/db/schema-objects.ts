/**
 * Provider-side objects (files, responses, batches, …) and the project whose request created
 * them (src/objects/). Rows come from the batched writer; times are epoch milliseconds.
 */
import { sqliteTable, text, integer, index, primaryKey } from 'drizzle-orm/sqlite-core'

export const providerObjects = sqliteTable(
  'provider_objects',
  {
    /** The provider's config id: ids are only unique within one upstream account. */
    provider: text('provider').notNull(),
    /** src/providers/types.ts ObjectKind. */
    kind: text('kind').notNull(),
    objectId: text('object_id').notNull(),
    project: text('project').notNull(),
    createdAt: integer('created_at').notNull(),
    /** When the provider drops the object (null: kept until deleted); the row is pruned after it. */
    expiresAt: integer('expires_at'),
  },
  (t) => [
    primaryKey({ columns: [t.provider, t.kind, t.objectId] }),
    index('provider_objects_project').on(t.provider, t.kind, t.project),
    index('provider_objects_expires').on(t.expiresAt),
  ],
)
