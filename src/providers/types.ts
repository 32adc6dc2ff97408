/**
 * The contract every provider API plugin fulfils. The core (proxy/, auth/, log/)
 * knows only this interface; each folder under providers/ implements it for one
 * wire format, with its upstream URL and auth, its usage readers and its error shape.
 */
import type { ErrorShape } from '../errors'
import type { ProviderConfig } from '../config/schema'

/** Token usage in genai-prices' vocabulary (input_tokens includes cached input). */
export type TokenUsage = Record<string, number | undefined>

export interface ReportedUsage {
  /** Normalised counts, ready for pricing. */
  tokens: TokenUsage
  /** The usage object exactly as the provider reported it (stored in the request log). */
  raw: unknown
  /** Model the provider says answered, when it says. */
  model?: string
}

/** What the core learned about an incoming request before it goes upstream. */
export interface InboundRequest {
  method: string
  /** Path after the route segment, without leading slash, still URL-encoded. e.g. `v1/messages`. */
  path: string
  /** Raw query string including `?`, or ''. */
  search: string
  headers: Headers
  /** The raw body bytes as the client sent them (null for GET/HEAD). */
  body: Uint8Array | null
  /** Parsed JSON body, when the body is JSON; never re-serialised unless the api must change it. */
  json: Record<string, unknown> | undefined
  /**
   * Where clients reach this gateway: `[admin] public_url`, else the request's origin, plus
   * `/proxy` when the client came that way. For protocols that hand the client a URL to go on at.
   */
  gatewayBase: string
}

/** What a plugin hands back for the core to send upstream. */
export interface UpstreamRequest {
  url: string
  method: string
  /** Provider credential and provider-specific headers; the core adds the allow-listed client headers. */
  headers: Record<string, string>
  body: Uint8Array | string | null
  /** Requested model, for allow-lists, logs and pricing. */
  model: string | undefined
  /** Whether the client asked for a stream. */
  stream: boolean
  /** genai-prices usage-extractor flavour for this operation. */
  flavor: string
  /** Operation name for telemetry (chat, embeddings, …). */
  operation: string
  /**
   * A documented change to a streamed response body, applied after usage metering on the
   * upstream bytes. Only Anthropic-format requests on Bedrock use it (event-stream → SSE).
   */
  convertStream?: ResponseConversion
  /**
   * A documented change to a whole 2xx JSON answer, for a client that expects another shape:
   * only Anthropic-format count_tokens on Bedrock uses it (`inputTokens` → `input_tokens`).
   * Errors pass through as the upstream sent them.
   */
  convertJson?(body: Uint8Array): Uint8Array
  /**
   * Response headers that would send the client past the gateway (a resumable upload's
   * continuation URL), pointed back at it. Runs on the headers the client gets.
   */
  rewriteHeaders?(headers: Headers): void
}

/** Rewrites a streamed response for a client that speaks another framing than the upstream. */
export interface ResponseConversion {
  /** Content type the client gets instead of the upstream's. */
  contentType: string
  /**
   * The client's body for one response, read from the relayed (metered) upstream body. It owns
   * the end: a source that fails mid-way must close with an error in the client's format.
   * Cancelling the result must cancel the source.
   */
  convert(body: ReadableStream<Uint8Array>): ReadableStream<Uint8Array>
}

/** Reads usage from a stream, one parsed event at a time. */
export interface StreamUsageReader {
  /** One SSE event (event name and data text); for AWS event-streams, the decoded payload. */
  event(name: string | undefined, data: string): void
  /** Called once at the end; returns what was reported, if anything. */
  result(): ReportedUsage | undefined
}

/**
 * How one format's stream events read, in the core's terms (src/providers/<api>/stream-events.ts),
 * so the core never looks inside an event. Both are cheap: most events are not parsed.
 */
export interface StreamFormat {
  /** A fresh watcher of one stream's terminal event. */
  terminal(): StreamTerminal
  /** Characters of generated output (text, reasoning, tool arguments) one event carries: a cut stream's estimate. */
  outputChars(name: string | undefined, data: string): number
}

/** Watches one stream for its format's terminal event; a body that ends before it is `upstream_incomplete`. */
export interface StreamTerminal {
  event(name: string | undefined, data: string): void
  readonly complete: boolean
}

/**
 * Rewrites a 2xx stream's error events on their way to the client (redacted: src/proxy/redact-errors.ts).
 * Every other byte passes as it came, and without delay beyond the head of a frame whose kind is not known yet.
 */
export interface StreamScreen {
  /** The bytes to write for one network chunk: the same chunk when it holds no error (nearly always). */
  push(chunk: Uint8Array): Uint8Array
  /** The body ended: what is still held and may still be written, if anything. */
  end(): Uint8Array | undefined
}

/** Turns network chunks of a streamed body into events for a usage reader. */
export interface StreamDecoder {
  push(chunk: Uint8Array): void
  /** The body ended (normally or not); flush anything pending. */
  end(): void
}

export interface ProviderApi {
  /** Value of `api` in config. */
  readonly api: string
  /** Route names that reach the first provider of this api when no provider or group has that id. */
  readonly aliases: readonly string[]
  readonly defaultBaseUrl: string
  /** genai-prices provider id. */
  readonly pricingProvider: string
  /** `gen_ai.provider.name` in the OpenTelemetry GenAI conventions (`gcp.vertex_ai`); the api name when absent. */
  readonly genAiProvider?: string
  readonly errors: ErrorShape
  /** The error shape for one path when it differs from `errors` (Bedrock's Anthropic-format route). */
  errorsFor?(path: string): ErrorShape
  /** How streamed responses are framed; SSE when absent (AWS event-stream for Bedrock). */
  streamDecoder?(reader: StreamUsageReader): StreamDecoder
  /** The content type of a stream in the format's own framing (read by streamDecoder), when it is not SSE. */
  readonly streamContentType?: string
  /**
   * For a 2xx stream in the format's own framing (streamContentType): a screen that runs
   * `redact` over the text of each error frame and frames it again; other frames pass byte for byte.
   */
  streamErrorScreen?(redact: (text: string) => string): StreamScreen
  /** A body the gateway relays without reading, whatever its content type (an upload's bytes). */
  opaqueBody?(path: string): boolean
  /**
   * Classifies a request with the format's endpoint table (src/providers/<api>/endpoints.ts),
   * once, after routing and before anything is reserved: undefined when no row matches (default deny).
   */
  classify?(req: InboundRequest): Classification | undefined
  /** Client headers this format's upstream reads (beside the core's content type, accept and trace context). */
  readonly forwardHeaders?: readonly string[]
  /** Builds the upstream request, or throws a GatewayError for a request this api cannot serve. */
  prepare(req: InboundRequest, provider: ProviderConfig): Promise<UpstreamRequest> | UpstreamRequest
  /** One well-formed error event that ends a stream the gateway must cut (stall, upstream failure). */
  streamErrorEvent?(error: import('../errors').GatewayError): string | Uint8Array
  /** Whether a request's headers mark it as this api's SDK (to pick an error shape for an unknown route). */
  matchesHeaders?(headers: Headers): boolean
  /**
   * The provider's own OpenAI-compatible endpoint, which the front door (`/v1/chat/completions`,
   * `/v1/embeddings`) forwards to; absent when the provider has none.
   */
  readonly compat?: CompatEndpoint
  /** Usage from a complete JSON response body. */
  jsonUsage(body: unknown, flavor: string): ReportedUsage | undefined
  /** A fresh usage reader for one streamed response. */
  streamUsage(flavor: string): StreamUsageReader
  /** How this operation's stream events read: its terminal event, its generated text. */
  streamFormat(flavor: string): StreamFormat
  /** Its provider-side objects (files, batches, …), for project isolation (src/objects); none: every object access is refused. */
  readonly objects?: ObjectFormat
  /**
   * What telemetry records about one operation's requests and answers (src/providers/<api>/telemetry.ts),
   * by flavor as streamFormat is: request parameters from the fields its endpoint table declares,
   * and the id, model, finish reasons and content of its answers and stream events.
   */
  telemetry?(flavor: string): TelemetryFormat
  /**
   * The format's own config cross-checks for provider `providers[index]` (config/load.ts): a
   * problem fails the load; a warning may come with the provider disabled (`enabled = false`).
   */
  checkConfig?(provider: ProviderConfig, index: number, problems: ConfigProblem[], warnings: string[]): void
}

/** A config problem at a path (`providers[2].credentials`). */
export interface ConfigProblem {
  path: string
  message: string
}

// ---------------------------------------------------------------------------------------------
// The front door: one OpenAI-compatible surface, forwarded to each provider's own compat endpoint.

export type CompatOperation = 'chat' | 'embeddings'

/** How the front door names a model to one provider. */
export interface CompatModel {
  /** The value the upstream body's `model` field gets (the one documented body change). */
  body: string
  /** The provider's own model name, as its native route records it: allow-lists, pricing and logs use it. */
  model: string
}

export interface CompatEndpoint {
  /** What the compat endpoint serves. */
  readonly operations: readonly CompatOperation[]
  /** The provider's name for a model asked for through the front door; undefined when it serves it only natively. */
  model(name: string, provider: ProviderConfig): CompatModel | undefined
  /** URL and headers (credential included) for one request; `body` is final (SigV4 signs it). */
  request(op: CompatOperation, provider: ProviderConfig, body: Uint8Array | string): Promise<{ url: string; headers: Record<string, string> }> | { url: string; headers: Record<string, string> }
  /** The native path (after the route) a client should use for a model the compat endpoint does not serve. */
  nativePath(name: string, provider: ProviderConfig): string
}

// ---------------------------------------------------------------------------------------------
// Classification: each format's endpoint table answers these before anything goes upstream.
// The core (spend, rate limits, telemetry, proxy) reads only these normalised values.

/**
 * - `metered`: priced from usage and held to limits (a model is required);
 * - `free`: costs nothing (count_tokens, model lists, …);
 * - `object`: reads or changes a provider-side object, kept within its project (src/objects);
 * - `refused`: never forwarded (the row says why).
 */
/** `passthrough`: no table row, let through by the provider's `passthrough_paths` (unpriced; refused for limited keys). */
export type EndpointClass = 'metered' | 'free' | 'object' | 'refused' | 'passthrough'

/** Provider-side objects a project's requests create and only that project may reach. */
export type ObjectKind =
  | 'file'
  | 'response'
  | 'batch'
  | 'upload'
  | 'vector_store'
  | 'cached_content'
  | 'container'
  | 'conversation'
  | 'message_batch'
  | 'file_search_store'

/** The provider-side object a request names in its path. */
export interface ObjectRef {
  kind: ObjectKind
  id: string
  action: 'read' | 'write' | 'delete'
}

export interface Classification {
  /** chat, responses, embeddings, audio, images, moderations, count_tokens, files, batches, … */
  operation: string
  class: EndpointClass
  /** Requested model (already bounded and checked for control characters). */
  model?: string
  stream: boolean
  /** The request's own output-token bound times its number of choices, when it sets one. */
  maxOutputTokens?: number
  /** Choices the request asks for (OpenAI `n`, Gemini `candidateCount`), when more than one. */
  choices?: number
  /** The request pulls in context the body does not carry (previous_response_id, file ids, cachedContent, …). */
  contextByReference?: boolean
  /** Object access: the object the path names. */
  object?: ObjectRef
  /** The 2xx answer creates an object of this kind (its id is read from the answer). */
  creates?: ObjectKind
  /** A metered answer may name objects of this kind the provider made while serving it (a code-execution container): the caller's. */
  yields?: ObjectKind
  /** A list endpoint for objects of this kind: the answer is filtered to the caller's project. */
  lists?: ObjectKind
  /** Every model a request names when it names several (an inline message batch): each is checked against the allow-list. */
  models?: string[]
  /** Batch creation: refused for keys with limits or a model allow-list unless the format can price it (Anthropic inline batches). */
  batch?: boolean
  /** Why a `refused` row refuses (rendered as the format's native 4xx). */
  refusal?: { status: number; message: string }
}

/** An object a 2xx answer describes: its id and, when the provider says or documents it, its expiry. */
export interface CreatedObject {
  id: string
  /** Epoch ms; absent: kept until deleted. */
  expiresAt?: number
}

/**
 * One format's knowledge of its provider-side objects (src/providers/<api>/objects.ts), so
 * src/objects records and filters them without reading a wire field.
 */
export interface ObjectFormat {
  /** The object of this kind a 2xx JSON answer describes (a creation, a read, an update). */
  createdObject(kind: ObjectKind, json: unknown, now: number): CreatedObject | undefined
  /** Objects the provider made itself and names in an answer about an owned one (a batch's output file): same owner. */
  relatedObjects?(kind: ObjectKind, json: unknown, now: number): { kind: ObjectKind; object: CreatedObject }[]
  /** The created object, from one event of a streamed creation; cheap for every other event. */
  streamedObject?(kind: ObjectKind, event: string | undefined, data: string, now: number): CreatedObject | undefined
  /** Objects of `kind` a metered answer names as made or kept alive for it (Classification.yields), from the JSON answer or one stream event. */
  yielded?(kind: ObjectKind, json: unknown, now: number): CreatedObject[]
  streamYielded?(kind: ObjectKind, event: string | undefined, data: string, now: number): CreatedObject[]
  /** A list answer of this kind with only the items `keep` accepts (cursors as sent); undefined when it is not one. */
  filterList(kind: ObjectKind, json: unknown, keep: (id: string) => boolean): unknown
  /** An empty list of this kind: the answer when a 2xx list answer is not one filterList can read (fail closed). */
  emptyList(kind: ObjectKind): unknown
  /**
   * Objects a request body names by id and the upstream would read (a `previous_response_id`,
   * a batch's input file, file ids in input, a cached content): each must be the caller's.
   * Asked only of requests whose class reads stored context or that create an object.
   */
  references?(json: Record<string, unknown>): { kind: ObjectKind; id: string }[]
  /** The id as the store keys it, when the format has several spellings (Gemini: `files/abc` and `abc`). */
  canonicalId?(kind: ObjectKind, id: string): string
  /** The message of the provider's own 404 for an object that does not exist. */
  notFoundMessage(kind: ObjectKind, id: string): string
  /**
   * Answers about objects of these kinds carry URLs the client follows (Anthropic's batch
   * `results_url`): `rewrite` points those under `from` (the upstream's base URL) at `to` (the
   * provider's route on the gateway) and drops any other, in place; true when it changed one.
   */
  pointBack?: { kinds: readonly ObjectKind[]; rewrite(json: unknown, from: string, to: string): boolean }
}

// ---------------------------------------------------------------------------------------------
// Telemetry: what a format's requests and answers say about themselves, in the OpenTelemetry GenAI
// conventions' terms, so src/telemetry only sets span attributes and never reads a wire field.

/** Request parameters a span records (`gen_ai.request.*`), read with the format's table (EndpointTable.params). */
export interface RequestParams {
  temperature?: number
  topP?: number
  topK?: number
  frequencyPenalty?: number
  presencePenalty?: number
  seed?: number
  /** Choices asked for, only when not 1. */
  choiceCount?: number
  stopSequences?: string[]
  encodingFormats?: string[]
}

/** One message part in the conventions' shape (`{ type: "text", content }`, `tool_call`, `blob`, …). */
export interface GenAiPart {
  type: string
  [k: string]: unknown
}

/** A message in the conventions' shape (`gen_ai.input.messages`, `gen_ai.output.messages`). */
export interface GenAiMessage {
  role: string
  parts: GenAiPart[]
  finish_reason?: string
}

/** A request's input as the conventions record it (content capture only). */
export interface GenAiInput {
  messages?: GenAiMessage[]
  system?: GenAiPart[]
}

/** What an answer said about itself; filled by a format's readers. */
export interface ResponseInfo {
  id?: string
  model?: string
  /** One per choice, by choice index. */
  finishReasons?: string[]
  /** Only when content capture is on. */
  output?: GenAiMessage[]
}

export interface TelemetryFormat {
  /** The request's parameters (the output-token bound comes from the Classification). */
  request(json: Record<string, unknown>): RequestParams
  /** The request's messages and system instructions (content capture only). */
  input(json: Record<string, unknown>): GenAiInput
  /** Fills `info` from a complete JSON answer; its output messages too with `capture`. */
  response(body: unknown, info: ResponseInfo, capture: boolean): void
  /**
   * A reader of one streamed answer that fills `info` event by event. Cheap: without `capture`
   * only the events that can carry an id, model or finish reason are parsed.
   */
  stream(info: ResponseInfo, capture: boolean): TelemetryStream
}

export interface TelemetryStream {
  event(name: string | undefined, data: string): void
  /** The output reassembled so far (with `capture`), one message per choice. */
  output(): GenAiMessage[] | undefined
}
