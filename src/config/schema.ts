/** The config.toml schema. Every object is closed, so a typo is an error that names its path. */
import { Type, type Static } from '@sinclair/typebox'

const Usd = Type.Number({ minimum: 0 })

export const Limits = Type.Object(
  { daily: Type.Optional(Usd), weekly: Type.Optional(Usd), monthly: Type.Optional(Usd), total: Type.Optional(Usd) },
  { additionalProperties: false },
)
export type Limits = Static<typeof Limits>

/**
 * `rate_limits = { … }` on a key, user or project, shared by every instance (src/ratelimit/):
 * requests per minute, tokens per minute (reserved from the request's max tokens, settled
 * from its usage) and requests in flight. Absent means unlimited.
 */
export const RateLimits = Type.Object(
  {
    rpm: Type.Optional(Type.Integer({ minimum: 1 })),
    tpm: Type.Optional(Type.Integer({ minimum: 1 })),
    concurrency: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  { additionalProperties: false },
)
export type RateLimits = Static<typeof RateLimits>

export const PROVIDER_APIS = ['openai', 'anthropic', 'groq', 'google-vertex', 'gemini', 'bedrock'] as const

const StringList = Type.Array(Type.String({ minLength: 1 }))

/** `timeouts = { … }` on a provider, in ms; 0 turns one off. Defaults: src/proxy/timeouts.ts. */
export const TimeoutsConfig = Type.Object(
  {
    /** DNS + TCP connect. */
    connect_ms: Type.Optional(Type.Integer({ minimum: 0 })),
    /** Streamed requests: until the first body byte (a failover is still possible before it). */
    first_byte_ms: Type.Optional(Type.Integer({ minimum: 0 })),
    /** Longest silence between two chunks of a response body. */
    idle_ms: Type.Optional(Type.Integer({ minimum: 0 })),
    /** One attempt from start to the last byte (bounds non-streamed requests, whose first byte comes last). */
    total_ms: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: false },
)
export type TimeoutsConfig = Static<typeof TimeoutsConfig>

/** `circuit_breaker = { … }` on a provider: after `failures` in a row, skip it for `cooldown_ms`. */
export const BreakerConfig = Type.Object(
  {
    /** Consecutive failures that open the breaker (default 5; 0 turns it off). */
    failures: Type.Optional(Type.Integer({ minimum: 0 })),
    /** How long an open breaker skips the provider before one probe request (default 30000). */
    cooldown_ms: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  { additionalProperties: false },
)
export type BreakerConfig = Static<typeof BreakerConfig>

/** `[[routes]]`: a routing group, reached as `/<name>/…` like a provider. */
export const RouteConfig = Type.Object(
  {
    name: Type.String({ minLength: 1, pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$' }),
    targets: Type.Array(
      Type.Object(
        {
          provider: Type.String({ minLength: 1 }),
          /** Higher goes first (default 0). */
          priority: Type.Optional(Type.Integer()),
          /** Share of traffic among targets of the same priority (default 1). */
          weight: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
        },
        { additionalProperties: false },
      ),
      { minItems: 1 },
    ),
  },
  { additionalProperties: false },
)
export type RouteConfig = Static<typeof RouteConfig>

/** `[[aliases]]`: a bare model name on the front door (`/v1/chat/completions`) for a route and that route's model. */
export const AliasConfig = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 256, pattern: '^[^:\\s]+$' }),
    /** A provider id, routing group or api alias. */
    route: Type.String({ minLength: 1 }),
    /** The model as the route's providers name it (`claude-sonnet-4-5`, `google/gemini-2.5-flash`). */
    model: Type.String({ minLength: 1, maxLength: 256 }),
  },
  { additionalProperties: false },
)
export type AliasConfig = Static<typeof AliasConfig>

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
    /**
     * Paths no endpoint-table row matches that still go upstream (`*` one segment, `**` the rest),
     * recorded unpriced and refused for keys with a model allow-list or any limit (default deny).
     */
    passthrough_paths: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 512 }), { maxItems: 100 })),
    timeouts: Type.Optional(TimeoutsConfig),
    circuit_breaker: Type.Optional(BreakerConfig),
    /** Cloud region (Bedrock: required, e.g. "us-east-1"). */
    region: Type.Optional(Type.String({ minLength: 1 })),
    /** Bedrock SigV4 credentials (alternatively a Bedrock API key in api_key). */
    access_key_id: Type.Optional(Type.String()),
    secret_access_key: Type.Optional(Type.String()),
    session_token: Type.Optional(Type.String()),
    /** The models this provider offers, listed by `GET /v1/models` (default: the price data's models for its api). */
    models: Type.Optional(StringList),
    /**
     * Bedrock: which OpenAI-compatible endpoint the front door (`/v1/chat/completions`) uses:
     * "runtime" (default, bedrock-runtime `openai/v1/…`) or "mantle" (bedrock-mantle `v1/…`).
     */
    openai_endpoint: Type.Optional(Type.Union([Type.Literal('runtime'), Type.Literal('mantle')])),
    /** Bedrock: model names clients may use, mapped to Bedrock model ids. */
    model_aliases: Type.Optional(Type.Record(Type.String({ minLength: 1 }), Type.String({ minLength: 1 }))),
    /** google-vertex: the service-account JSON, e.g. `${file:/etc/tollgate/sa.json}` (also uses `region`, default "global"). */
    credentials: Type.Optional(Type.String()),
    /** google-vertex: the Google Cloud project; defaults to the service account's project_id. */
    project: Type.Optional(Type.String({ minLength: 1, pattern: '^[A-Za-z0-9._:-]+$' })),
    /** google-vertex: the OAuth token endpoint (default Google's); tests point it at a local server. */
    token_url: Type.Optional(Type.String({ pattern: '^https?://' })),
    /** Spend: the operator's own account ("buy inference through the gateway"); requests draw on project credits. */
    managed: Type.Optional(Type.Boolean()),
    /** Spend: percent added to this provider's cost (managed providers), e.g. 20 for +20%. */
    markup: Type.Optional(Type.Number({ minimum: 0 })),
    /** Spend: add the cost to non-streamed JSON responses' `usage` (as `cost`, USD). */
    inject_cost: Type.Optional(Type.Boolean()),
    /**
     * Provider-side objects (files, responses, batches, …): `"project"` (default) keeps each
     * within the project that created it (src/objects); `"none"` skips that, for a provider
     * only one project uses.
     */
    isolation: Type.Optional(Type.Union([Type.Literal('project'), Type.Literal('none')])),
  },
  { additionalProperties: false },
)
export type ProviderConfig = Static<typeof ProviderConfig>

const OtelProtocol = Type.Union([Type.Literal('http/protobuf'), Type.Literal('http/json')])

/** `otel = { … }` on a project: its own trace backend (as PAIG does), and whether prompts go with the spans. */
export const ProjectOtelConfig = Type.Object(
  {
    /** OTLP base URL (`/v1/traces` is appended unless present); the project's spans go there too. */
    endpoint: Type.Optional(Type.String({ pattern: '^https?://' })),
    headers: Type.Optional(Type.Record(Type.String(), Type.String())),
    protocol: Type.Optional(OtelProtocol),
    /** Record `gen_ai.input.messages` / `gen_ai.output.messages` (redacted) for this project. */
    capture_content: Type.Optional(Type.Boolean()),
    /** With an own endpoint: whether the global `[otel]` backend also gets this project's spans (default true). */
    also_global: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
)
export type ProjectOtelConfig = Static<typeof ProjectOtelConfig>

export const ProjectConfig = Type.Object(
  {
    id: Type.String({ minLength: 1 }),
    name: Type.Optional(Type.String()),
    providers: Type.Optional(StringList),
    limits: Type.Optional(Limits),
    rate_limits: Type.Optional(RateLimits),
    otel: Type.Optional(ProjectOtelConfig),
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
    rate_limits: Type.Optional(RateLimits),
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
    rate_limits: Type.Optional(RateLimits),
  },
  { additionalProperties: false },
)
export type KeyConfig = Static<typeof KeyConfig>

export const ServerConfig = Type.Object(
  {
    listen: Type.String({ default: '127.0.0.1:8787', pattern: '^[^:]*:[0-9]{1,5}$' }),
    /** Largest request body accepted, in bytes; larger gets 413 and never goes upstream. */
    max_body_bytes: Type.Integer({ minimum: 1024, default: 32 * 1024 * 1024 }),
    /**
     * Bun.serve reads request headers under a fixed 10 s timer of its own (not configurable);
     * this must stay 10 until Bun lets it change, and is here so the file says so. See README.
     */
    header_timeout_seconds: Type.Number({ minimum: 10, maximum: 10, default: 10 }),
    /** A request body not fully arrived this long after the request began gets a native 408 and the connection is closed. */
    body_timeout_seconds: Type.Number({ exclusiveMinimum: 0, default: 30 }),
    /** How long SIGTERM waits for in-flight requests and streams. */
    shutdown_grace_seconds: Type.Number({ minimum: 0, default: 30 }),
    /**
     * Requests in flight at most (streams included); past it a new request gets a native 503 with
     * retry-after before anything is reserved or sent upstream. Default: (open-files soft limit − 256) / 2
     * (a relayed stream holds two descriptors; 256 are left for the database, logs and probes).
     */
    max_inflight: Type.Optional(Type.Integer({ minimum: 1 })),
    /** Bytes one relayed stream may queue for a slow client; at it, the relay stops reading the upstream until the client catches up. */
    stream_buffer_bytes: Type.Integer({ minimum: 1024, default: 256 * 1024 }),
    /** All streams' queued bytes together (bytes): when less than one stream's buffer is left, new requests get a native 503. Default 1 GiB. */
    stream_buffer_budget_bytes: Type.Integer({ minimum: 1024 * 1024, default: 1024 * 1024 * 1024 }),
    /** PEM certificate (chain) file: with `tls_key`, the port serves https. SIGHUP reads both files again. */
    tls_cert: Type.Optional(Type.String({ minLength: 1 })),
    /** PEM private key file for `tls_cert`. */
    tls_key: Type.Optional(Type.String({ minLength: 1 })),
    /**
     * HTTP/2 on the port beside HTTP/1.1: h2 by ALPN with TLS, h2c (prior knowledge) without.
     * Off by default: it puts a front listener before Bun.serve (see README, TLS and HTTP/2).
     */
    http2: Type.Boolean({ default: false }),
    /**
     * Reverse proxies (addresses or CIDR ranges) whose X-Forwarded-For is believed: the client is
     * then the rightmost hop that is not one of them. Default none: the client is the socket's peer.
     * Used for per-address limits on failed sign-ins (`[admin] max_failed_attempts`).
     */
    trusted_proxies: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { default: [], maxItems: 1000 }),
  },
  { additionalProperties: false, default: {} },
)

export const DatabaseConfig = Type.Object(
  {
    /**
     * libSQL (single node, the default): `file:path`, or a libSQL server / Turso at
     * `libsql://`, `https://`, `wss://`. PostgreSQL (several instances sharing state):
     * `postgres://user:password@host:5432/db`, optionally `?sslmode=require` (other query
     * parameters go to the server as connection parameters, e.g. `application_name`).
     * Printed without credentials. Engine choice: src/db/client.ts.
     */
    url: Type.String({ default: 'file:data/tollgate.db' }),
    /** libSQL server / Turso token; PostgreSQL takes its password in the URL (or PGPASSWORD). */
    auth_token: Type.Optional(Type.String()),
    /**
     * Rows (request log, ledger) held in memory while the database cannot take them; at this
     * many, new requests get a native 503 until the database is back and the queue drains.
     */
    outage_queue_rows: Type.Integer({ minimum: 100, default: 200_000 }),
    /** The same bound in bytes (rows as JSON); whichever is reached first. Default 128 MiB. */
    outage_queue_bytes: Type.Integer({ minimum: 64 * 1024, default: 128 * 1024 * 1024 }),
    /**
     * A local libSQL file with data is copied (mode 0600) before a new version migrates its
     * schema; if the copy fails, nothing is migrated and the start stops (src/db/pre-migrate-backup.ts).
     */
    backup_before_migrate: Type.Boolean({ default: true }),
    /** Where those copies go (made 0700 if missing); default: the database file's folder. */
    backup_dir: Type.Optional(Type.String({ minLength: 1 })),
    /** How many of those copies are kept per database file; older ones are deleted. */
    backups_kept: Type.Integer({ minimum: 1, default: 3 }),
  },
  { additionalProperties: false, default: {} },
)

export const LogConfig = Type.Object(
  {
    /** How often the batched request log is written, in milliseconds. */
    flush_interval_ms: Type.Integer({ minimum: 10, default: 500 }),
    /** Request-log rows older than this many days are deleted (hourly); 0 keeps every row. The spend ledger is kept whole. */
    retention_days: Type.Integer({ minimum: 0, default: 0 }),
  },
  { additionalProperties: false, default: {} },
)

/** `[otel]`: OpenTelemetry traces over OTLP/HTTP. Tracing is on when this or a project has an endpoint. */
export const OtelConfig = Type.Object(
  {
    /** OTLP base URL, e.g. http://collector:4318 (`/v1/traces` is appended unless present). */
    endpoint: Type.Optional(Type.String({ pattern: '^https?://' })),
    headers: Type.Optional(Type.Record(Type.String(), Type.String())),
    protocol: Type.Union([Type.Literal('http/protobuf'), Type.Literal('http/json')], { default: 'http/protobuf' }),
    /** Share of new traces recorded (0–1); a sampled incoming `traceparent` is always followed. */
    sample_rate: Type.Number({ minimum: 0, maximum: 1, default: 1 }),
    service_name: Type.String({ minLength: 1, default: 'tollgate' }),
    /** Default for message content on spans; projects may switch it on for themselves. */
    capture_content: Type.Boolean({ default: false }),
    /** Longest one export may take before its spans are dropped (and counted). */
    timeout_ms: Type.Integer({ minimum: 1, default: 10000 }),
  },
  { additionalProperties: false, default: {} },
)
export type OtelConfig = Static<typeof OtelConfig>

/** `[metrics]`: Prometheus `/metrics`, on the main listener or its own, optionally behind a bearer token. */
export const MetricsConfig = Type.Object(
  {
    enabled: Type.Boolean({ default: true }),
    /** HOST:PORT for a separate listener; when set, the main listener does not serve /metrics. */
    listen: Type.Optional(Type.String({ pattern: '^[^:]*:[0-9]{1,5}$' })),
    /** When set, scrapers must send `Authorization: Bearer <token>`. */
    token: Type.Optional(Type.String()),
  },
  { additionalProperties: false, default: {} },
)
export type MetricsConfig = Static<typeof MetricsConfig>

/** `[logging]`: one structured line per request. */
export const LoggingConfig = Type.Object(
  {
    /** `info` logs every request, `warn` only 4xx/5xx, `error` only 5xx, `off` none. */
    level: Type.Union([Type.Literal('debug'), Type.Literal('info'), Type.Literal('warn'), Type.Literal('error'), Type.Literal('off')], { default: 'info' }),
    format: Type.Union([Type.Literal('json'), Type.Literal('pretty')], { default: 'json' }),
    /** Append to this file instead of stdout. */
    file: Type.Optional(Type.String({ minLength: 1 })),
  },
  { additionalProperties: false, default: {} },
)
export type LoggingConfig = Static<typeof LoggingConfig>

/** `[auth.oidc]`: single sign-on for the admin UI and API (authorization code + PKCE). */
export const OidcConfig = Type.Object(
  {
    issuer: Type.String({ pattern: '^https?://' }),
    client_id: Type.String({ minLength: 1 }),
    client_secret: Type.Optional(Type.String()),
    /** Where the provider sends the browser back: `<public url>/admin/auth/callback`. */
    redirect_url: Type.String({ pattern: '^https?://' }),
    /** Email domains allowed to sign in; empty or absent means any verified email. */
    allowed_domains: Type.Optional(StringList),
    /** Emails that become org admins when they sign in. */
    admin_emails: Type.Optional(StringList),
    /** A claim holding the user's groups (e.g. "groups"), and the groups that make an org admin. */
    groups_claim: Type.Optional(Type.String({ minLength: 1 })),
    admin_groups: Type.Optional(StringList),
    scopes: Type.Optional(StringList),
  },
  { additionalProperties: false },
)
export type OidcConfig = Static<typeof OidcConfig>

export const AuthConfig = Type.Object({ oidc: Type.Optional(OidcConfig) }, { additionalProperties: false, default: {} })

/** `[secrets]`: the key-encryption key for provider credentials stored through the admin API. */
export const SecretsConfig = Type.Object({ key: Type.Optional(Type.String()) }, { additionalProperties: false, default: {} })

/** `[admin]`: the admin UI and API under /admin. */
export const AdminConfig = Type.Object(
  {
    enabled: Type.Boolean({ default: true }),
    /** The gateway's address as browsers reach it (for setup and invitation links); defaults to server.listen. */
    public_url: Type.Optional(Type.String({ pattern: '^https?://' })),
    session_hours: Type.Number({ minimum: 0.1, default: 12 }),
    invitation_days: Type.Number({ minimum: 0.01, default: 7 }),
    /** Base URLs project admins may give their providers (and exempt from the address checks). */
    allowed_base_urls: Type.Array(Type.String({ pattern: '^https?://' }), { default: [] }),
    /** Let admin-made providers reach loopback, private and link-local addresses (and plain http). */
    allow_private_upstreams: Type.Boolean({ default: false }),
    /**
     * Failed sign-ins per client address (bad admin tokens or session cookies, failed OIDC
     * callbacks, unknown setup or invitation links) allowed in a window; past it, 429 with retry-after.
     */
    max_failed_attempts: Type.Integer({ minimum: 1, default: 20 }),
    failed_attempts_window_seconds: Type.Number({ exclusiveMinimum: 0, default: 600 }),
  },
  { additionalProperties: false, default: {} },
)

/** `[[pricing.models]]`: prices for a model genai-prices does not know, or overrides (USD per million tokens). */
export const PricedModelConfig = Type.Object(
  {
    /** Model name as requested or reported; `*` matches any run of characters. */
    model: Type.String({ minLength: 1 }),
    /** Only for this provider id (default: any provider). */
    provider: Type.Optional(Type.String({ minLength: 1 })),
    input_mtok: Type.Number({ minimum: 0 }),
    output_mtok: Type.Number({ minimum: 0 }),
    cache_read_mtok: Type.Optional(Type.Number({ minimum: 0 })),
    cache_write_mtok: Type.Optional(Type.Number({ minimum: 0 })),
    /** Largest output the model can produce, for the reservation estimate. */
    max_output_tokens: Type.Optional(Type.Integer({ minimum: 1 })),
    context_window: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  { additionalProperties: false },
)
export type PricedModelConfig = Static<typeof PricedModelConfig>

/** `[pricing]`: how requests are priced (src/spend/prices.ts). */
export const PricingConfig = Type.Object(
  {
    /**
     * A model that cannot be priced: "limited" (default) answers 400 before upstream only when a spend
     * limit or prepaid credits apply to the key, its user or its project, and otherwise passes it,
     * recorded unpriced; "reject" always answers 400; "allow" always passes it.
     */
    unknown_model: Type.Union([Type.Literal('limited'), Type.Literal('reject'), Type.Literal('allow')], { default: 'limited' }),
    /**
     * Input tokens reserved for a request that pulls in context by reference (previous_response_id,
     * file ids, cachedContent) when the price data knows no context window for its model.
     */
    unseen_context_tokens: Type.Integer({ minimum: 1, default: 1_000_000 }),
    /** Output tokens reserved when neither the request nor the price data states a maximum. */
    default_max_output_tokens: Type.Integer({ minimum: 1, default: 32768 }),
    models: Type.Array(PricedModelConfig, { default: [] }),
  },
  { additionalProperties: false, default: {} },
)
export type PricingConfig = Static<typeof PricingConfig>

/** `[limits]`: how spend limits count (the limits themselves sit on projects, users and keys). */
export const SpendLimitsConfig = Type.Object(
  {
    /** IANA zone of the calendar windows (day, ISO week from Monday, month). */
    timezone: Type.String({ minLength: 1, default: 'UTC' }),
    /** How often the spend ledger is written, in ms (what a kill -9 can lose; see src/spend/ledger.ts). */
    ledger_flush_ms: Type.Integer({ minimum: 5, default: 100 }),
    /** Reservations a crash left open: "charge" settles them at their estimate, "release" frees them. */
    crash_recovery: Type.Union([Type.Literal('charge'), Type.Literal('release')], { default: 'charge' }),
  },
  { additionalProperties: false, default: {} },
)
export type SpendLimitsConfig = Static<typeof SpendLimitsConfig>

/**
 * `[cluster]`: several instances behind a load balancer, sharing limits, rate limits and
 * change notices through Redis (src/cluster/). Without `redis_url` the process is alone.
 */
export const ClusterConfig = Type.Object(
  {
    /** `redis://[user:pass@]host:port[/db]` or `rediss://…` (Redis or Valkey). */
    redis_url: Type.Optional(Type.String({ pattern: '^rediss?://' })),
    /** With Redis unreachable: "closed" refuses limited keys (503); "local" enforces a 1/N share of every limit per instance. */
    on_redis_down: Type.Union([Type.Literal('closed'), Type.Literal('local')], { default: 'closed' }),
    /** A reservation of an instance that stops renewing it (it died) is settled by the survivors after this long. */
    lease_seconds: Type.Number({ minimum: 1, default: 30 }),
    /** Prefix of every Redis key and channel, so deployments can share one Redis. */
    key_prefix: Type.String({ minLength: 1, default: 'tollgate:' }),
    /** This instance's name in the heartbeat set and logs (default: hostname:pid:random). */
    instance_id: Type.Optional(Type.String({ minLength: 1 })),
  },
  { additionalProperties: false, default: {} },
)
export type ClusterConfig = Static<typeof ClusterConfig>

export const Config = Type.Object(
  {
    server: ServerConfig,
    database: DatabaseConfig,
    log: LogConfig,
    otel: OtelConfig,
    metrics: MetricsConfig,
    logging: LoggingConfig,
    providers: Type.Array(ProviderConfig, { default: [] }),
    projects: Type.Array(ProjectConfig, { default: [] }),
    users: Type.Array(UserConfig, { default: [] }),
    keys: Type.Array(KeyConfig, { default: [] }),
    routes: Type.Array(RouteConfig, { default: [] }),
    aliases: Type.Array(AliasConfig, { default: [] }),
    auth: AuthConfig,
    secrets: SecretsConfig,
    admin: AdminConfig,
    pricing: PricingConfig,
    limits: SpendLimitsConfig,
    cluster: ClusterConfig,
  },
  { additionalProperties: false },
)
export type Config = Static<typeof Config>
