/**
 * Tables of the admin surface: what the UI and admin API create (projects, users, members,
 * providers, invitations), how people get in (identities, sessions, sign-in states, admin
 * tokens, setup links) and the audit log. Entities in config.toml never live here.
 * Secrets are stored as SHA-256 digests, provider credentials as AES-GCM ciphertext.
 * Money is integer nano-dollars; times are epoch milliseconds.
 */
import { sqliteTable, text, integer, index, primaryKey, uniqueIndex } from 'drizzle-orm/sqlite-core'

export const adminProjects = sqliteTable('admin_projects', {
  id: text('id').primaryKey(),
  name: text('name'),
  /** Provider ids this project may reach; null means every provider it can see. */
  providers: text('providers', { mode: 'json' }).$type<string[]>(),
  limitDailyNanos: integer('limit_daily_nanos'),
  limitWeeklyNanos: integer('limit_weekly_nanos'),
  limitMonthlyNanos: integer('limit_monthly_nanos'),
  limitTotalNanos: integer('limit_total_nanos'),
  createdAt: integer('created_at').notNull(),
})

export const adminUsers = sqliteTable('admin_users', {
  id: text('id').primaryKey(),
  email: text('email'),
  name: text('name'),
  /** Organisation role: 'admin' (org admin) or 'member'. */
  role: text('role').notNull().default('member'),
  limitDailyNanos: integer('limit_daily_nanos'),
  limitWeeklyNanos: integer('limit_weekly_nanos'),
  limitMonthlyNanos: integer('limit_monthly_nanos'),
  limitTotalNanos: integer('limit_total_nanos'),
  createdAt: integer('created_at').notNull(),
  lastSeenAt: integer('last_seen_at'),
  disabledAt: integer('disabled_at'),
})

/** Binds a verified OIDC identity (iss, sub) to a user id, from config or the database. */
export const adminIdentities = sqliteTable(
  'admin_identities',
  {
    iss: text('iss').notNull(),
    sub: text('sub').notNull(),
    userId: text('user_id').notNull(),
    email: text('email'),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.iss, t.sub] }), index('admin_identities_user').on(t.userId)],
)

export const adminMemberships = sqliteTable(
  'admin_memberships',
  {
    project: text('project').notNull(),
    userId: text('user_id').notNull(),
    /** 'admin' (project admin) or 'member'. */
    role: text('role').notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.project, t.userId] }), index('admin_memberships_user').on(t.userId)],
)

/** Provider credentials entered through the admin API; the key is AES-GCM ciphertext. */
export const adminProviders = sqliteTable('admin_providers', {
  id: text('id').primaryKey(),
  api: text('api').notNull(),
  baseUrl: text('base_url'),
  /** The project that owns it (only that project reaches it); null = organisation-wide. */
  project: text('project'),
  keyCiphertext: text('key_ciphertext'),
  keyLast4: text('key_last4'),
  headers: text('headers', { mode: 'json' }).$type<Record<string, string>>(),
  enabled: integer('enabled', { mode: 'boolean' }).notNull().default(true),
  createdAt: integer('created_at').notNull(),
})

export const adminInvitations = sqliteTable(
  'admin_invitations',
  {
    id: text('id').primaryKey(),
    tokenSha256: text('token_sha256').notNull(),
    project: text('project').notNull(),
    role: text('role').notNull(),
    email: text('email'),
    createdBy: text('created_by'),
    createdAt: integer('created_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
    redeemedAt: integer('redeemed_at'),
    redeemedBy: text('redeemed_by'),
    revokedAt: integer('revoked_at'),
  },
  (t) => [uniqueIndex('admin_invitations_token').on(t.tokenSha256)],
)

export const adminSessions = sqliteTable(
  'admin_sessions',
  {
    /** SHA-256 of the cookie value; the value itself is never stored. */
    idSha256: text('id_sha256').primaryKey(),
    userId: text('user_id').notNull(),
    csrfToken: text('csrf_token').notNull(),
    createdAt: integer('created_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
  },
  (t) => [index('admin_sessions_user').on(t.userId)],
)

/** One pending OIDC sign-in: PKCE verifier, nonce, and what to do once signed in. */
export const adminLoginStates = sqliteTable('admin_login_states', {
  stateSha256: text('state_sha256').primaryKey(),
  nonce: text('nonce').notNull(),
  codeVerifier: text('code_verifier').notNull(),
  invitationId: text('invitation_id'),
  setupId: text('setup_id'),
  createdAt: integer('created_at').notNull(),
  expiresAt: integer('expires_at').notNull(),
})

/** Tokens for automation against the admin API, scoped to a role. */
export const adminTokens = sqliteTable(
  'admin_tokens',
  {
    id: text('id').primaryKey(),
    name: text('name'),
    tokenSha256: text('token_sha256').notNull(),
    /** 'org_admin', 'project_admin' (with project) or 'member' (acting as user). */
    role: text('role').notNull(),
    project: text('project'),
    userId: text('user_id'),
    createdAt: integer('created_at').notNull(),
    expiresAt: integer('expires_at'),
    lastUsedAt: integer('last_used_at'),
    revokedAt: integer('revoked_at'),
  },
  (t) => [uniqueIndex('admin_tokens_sha').on(t.tokenSha256)],
)

/** One-time links that make the first org admin (or recover access without OIDC). */
export const adminSetupLinks = sqliteTable('admin_setup_links', {
  id: text('id').primaryKey(),
  tokenSha256: text('token_sha256').notNull().unique(),
  createdAt: integer('created_at').notNull(),
  expiresAt: integer('expires_at').notNull(),
  usedAt: integer('used_at'),
  usedBy: text('used_by'),
})

export const adminAudit = sqliteTable(
  'admin_audit',
  {
    id: text('id').primaryKey(),
    ts: integer('ts').notNull(),
    /** User id, `token:<id>`, `setup` or `cli`. */
    actor: text('actor').notNull(),
    action: text('action').notNull(),
    objectType: text('object_type').notNull(),
    objectId: text('object_id'),
    /** The project the object belongs to, for project admins' view of the log. */
    project: text('project'),
    /** What changed, never a secret. */
    detail: text('detail', { mode: 'json' }),
  },
  (t) => [index('admin_audit_ts').on(t.ts)],
)
