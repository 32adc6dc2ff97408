/** PostgreSQL mirror of src/db/schema-objects.ts (see ./schema.ts for why it only feeds migrations). */
import { bigint, index, pgTable, primaryKey, text } from 'drizzle-orm/pg-core'

export const providerObjects = pgTable(
  'provider_objects',
  {
    provider: text('provider').notNull(),
    kind: text('kind').notNull(),
    objectId: text('object_id').notNull(),
    project: text('project').notNull(),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
    expiresAt: bigint('expires_at', { mode: 'number' }),
  },
  (t) => [
    primaryKey({ columns: [t.provider, t.kind, t.objectId] }),
    index('provider_objects_project').on(t.provider, t.kind, t.project),
    index('provider_objects_expires').on(t.expiresAt),
  ],
)
