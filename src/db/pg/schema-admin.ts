/** PostgreSQL mirror of src/db/schema-admin.ts (see ./schema.ts for why it only feeds migrations). */
import { bigint, boolean, index, jsonb, pgTable, primaryKey, text, uniqueIndex } from 'drizzle-orm/pg-core'

export const adminProjects = pgTable('admin_projects', {
  id: text('id').primaryKey(),
  name: text('name'),
  providers: jsonb('providers').$type<string[]>(),
  limitDailyNanos: bigint('limit_daily_nanos', { mode: 'number' }),
  limitWeeklyNanos: bigint('limit_weekly_nanos', { mode: 'number' }),
  limitMonthlyNanos: bigint('limit_monthly_nanos', { mode: 'number' }),
  limitTotalNanos: bigint('limit_total_nanos', { mode: 'number' }),
  createdAt: bigint('created_at', { mode: 'number' }).notNull(),
})

export const adminUsers = pgTable('admin_users', {
  id: text('id').primaryKey(),
  email: text('email'),
  name: text('name'),
  role: text('role').notNull().default('member'),
  limitDailyNanos: bigint('limit_daily_nanos', { mode: 'number' }),
  limitWeeklyNanos: bigint('limit_weekly_nanos', { mode: 'number' }),
  limitMonthlyNanos: bigint('limit_monthly_nanos', { mode: 'number' }),
  limitTotalNanos: bigint('limit_total_nanos', { mode: 'number' }),
  createdAt: bigint('created_at', { mode: 'number' }).notNull(),
  lastSeenAt: bigint('last_seen_at', { mode: 'number' }),
  disabledAt: bigint('disabled_at', { mode: 'number' }),
})

export const adminIdentities = pgTable(
  'admin_identities',
  {
    iss: text('iss').notNull(),
    sub: text('sub').notNull(),
    userId: text('user_id').notNull(),
    email: text('email'),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.iss, t.sub] }), index('admin_identities_user').on(t.userId)],
)

export const adminMemberships = pgTable(
  'admin_memberships',
  {
    project: text('project').notNull(),
    userId: text('user_id').notNull(),
    role: text('role').notNull(),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.project, t.userId] }), index('admin_memberships_user').on(t.userId)],
)

export const adminProviders = pgTable('admin_providers', {
  id: text('id').primaryKey(),
  api: text('api').notNull(),
  baseUrl: text('base_url'),
  project: text('project'),
  keyCiphertext: text('key_ciphertext'),
  keyLast4: text('key_last4'),
  headers: jsonb('headers').$type<Record<string, string>>(),
  enabled: boolean('enabled').notNull().default(true),
  createdAt: bigint('created_at', { mode: 'number' }).notNull(),
})

export const adminInvitations = pgTable(
  'admin_invitations',
  {
    id: text('id').primaryKey(),
    tokenSha256: text('token_sha256').notNull(),
    project: text('project').notNull(),
    role: text('role').notNull(),
    email: text('email'),
    createdBy: text('created_by'),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
    expiresAt: bigint('expires_at', { mode: 'number' }).notNull(),
    redeemedAt: bigint('redeemed_at', { mode: 'number' }),
    redeemedBy: text('redeemed_by'),
    revokedAt: bigint('revoked_at', { mode: 'number' }),
  },
  (t) => [uniqueIndex('admin_invitations_token').on(t.tokenSha256)],
)

export const adminSessions = pgTable(
  'admin_sessions',
  {
    idSha256: text('id_sha256').primaryKey(),
    userId: text('user_id').notNull(),
    csrfToken: text('csrf_token').notNull(),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
    expiresAt: bigint('expires_at', { mode: 'number' }).notNull(),
  },
  (t) => [index('admin_sessions_user').on(t.userId)],
)

export const adminLoginStates = pgTable('admin_login_states', {
  stateSha256: text('state_sha256').primaryKey(),
  nonce: text('nonce').notNull(),
  codeVerifier: text('code_verifier').notNull(),
  invitationId: text('invitation_id'),
  setupId: text('setup_id'),
  createdAt: bigint('created_at', { mode: 'number' }).notNull(),
  expiresAt: bigint('expires_at', { mode: 'number' }).notNull(),
})

export const adminTokens = pgTable(
  'admin_tokens',
  {
    id: text('id').primaryKey(),
    name: text('name'),
    tokenSha256: text('token_sha256').notNull(),
    role: text('role').notNull(),
    project: text('project'),
    userId: text('user_id'),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
    expiresAt: bigint('expires_at', { mode: 'number' }),
    lastUsedAt: bigint('last_used_at', { mode: 'number' }),
    revokedAt: bigint('revoked_at', { mode: 'number' }),
  },
  (t) => [uniqueIndex('admin_tokens_sha').on(t.tokenSha256)],
)

export const adminSetupLinks = pgTable('admin_setup_links', {
  id: text('id').primaryKey(),
  tokenSha256: text('token_sha256').notNull().unique(),
  createdAt: bigint('created_at', { mode: 'number' }).notNull(),
  expiresAt: bigint('expires_at', { mode: 'number' }).notNull(),
  usedAt: bigint('used_at', { mode: 'number' }),
  usedBy: text('used_by'),
})

export const adminAudit = pgTable(
  'admin_audit',
  {
    id: text('id').primaryKey(),
    ts: bigint('ts', { mode: 'number' }).notNull(),
    actor: text('actor').notNull(),
    action: text('action').notNull(),
    objectType: text('object_type').notNull(),
    objectId: text('object_id'),
    project: text('project'),
    detail: jsonb('detail'),
  },
  (t) => [index('admin_audit_ts').on(t.ts)],
)
