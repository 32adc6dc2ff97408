/** The config.toml schema. Every object is closed, so a typo is an error that names its path. */
import { Type, type Static } from '@sinclair/typebox'

const Usd = Type.Number({ minimum: 0 })

export const Limits = Type.Object(
  { daily: Type.Optional(Usd), weekly: Type.Optional(Usd), monthly: Type.Optional(Usd), total: Type.Optional(Usd) },
  { additionalProperties: false },
)
export type Limits = Static<typeof Limits>

export const PROVIDER_APIS = ['openai', 'anthropic', 'groq', 'google-vertex', 'gemini', 'bedrock'] as const

const StringList = Type.Array(Type.String({ minLength: 1 }))

export const ProviderConfig = Type.Object(
  {
    id: Type.String({ minLength: 1, pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$' }),
    api: Type.Union(PROVIDER_APIS.map((a) => Type.Literal(a))),
    base_url: Type.Optional(Type.String({ pattern: '^https?://' })),
    api_key: Type.Optional(Type.String()),
    /** Set false to keep a provider in the file but off. */
    enabled: Type.Optional(Type.Boolean()),
    /** Extra headers sent upstream on every request (e.g. an org id). */
    headers: Type.Optional(Type.Record(Type.String(), Type.String())),
  },
  { additionalProperties: false },
)
export type ProviderConfig = Static<typeof ProviderConfig>

export const ProjectConfig = Type.Object(
  {
    id: Type.String({ minLength: 1 }),
    name: Type.Optional(Type.String()),
    providers: Type.Optional(StringList),
    limits: Type.Optional(Limits),
  },
  { additionalProperties: false },
)
export type ProjectConfig = Static<typeof ProjectConfig>

export const UserConfig = Type.Object(
  {
    id: Type.String({ minLength: 1 }),
    email: Type.Optional(Type.String()),
    role: Type.Union([Type.Literal('admin'), Type.Literal('member')], { default: 'member' }),
    projects: Type.Optional(StringList),
    limits: Type.Optional(Limits),
  },
  { additionalProperties: false },
)
export type UserConfig = Static<typeof UserConfig>

export const KeyConfig = Type.Object(
  {
    id: Type.String({ minLength: 1 }),
    name: Type.Optional(Type.String()),
    project: Type.String({ minLength: 1 }),
    user: Type.Optional(Type.String({ minLength: 1 })),
    key: Type.Optional(Type.String()),
    key_sha256: Type.Optional(Type.String({ pattern: '^[0-9a-fA-F]{64}$' })),
    providers: Type.Optional(StringList),
    models: Type.Optional(StringList),
    expires: Type.Optional(Type.String({ minLength: 1 })),
    limits: Type.Optional(Limits),
  },
  { additionalProperties: false },
)
export type KeyConfig = Static<typeof KeyConfig>

export const ServerConfig = Type.Object(
  {
    listen: Type.String({ default: '127.0.0.1:8787', pattern: '^[^:]*:[0-9]{1,5}$' }),
    /** Largest request body accepted, in bytes; larger gets 413 and never goes upstream. */
    max_body_bytes: Type.Integer({ minimum: 1024, default: 32 * 1024 * 1024 }),
    /** How long SIGTERM waits for in-flight requests and streams. */
    shutdown_grace_seconds: Type.Number({ minimum: 0, default: 30 }),
  },
  { additionalProperties: false, default: {} },
)

export const DatabaseConfig = Type.Object(
  {
    url: Type.String({ default: 'file:data/tollgate.db' }),
    auth_token: Type.Optional(Type.String()),
  },
  { additionalProperties: false, default: {} },
)

export const LogConfig = Type.Object(
  {
    /** How often the batched request log is written, in milliseconds. */
    flush_interval_ms: Type.Integer({ minimum: 10, default: 500 }),
  },
  { additionalProperties: false, default: {} },
)

export const Config = Type.Object(
  {
    server: ServerConfig,
    database: DatabaseConfig,
    log: LogConfig,
    providers: Type.Array(ProviderConfig, { default: [] }),
    projects: Type.Array(ProjectConfig, { default: [] }),
    users: Type.Array(UserConfig, { default: [] }),
    keys: Type.Array(KeyConfig, { default: [] }),
  },
  { additionalProperties: false },
)
export type Config = Static<typeof Config>
