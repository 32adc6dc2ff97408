/**
 * AWS Bedrock Runtime: Converse, ConverseStream, InvokeModel, InvokeModelWithResponseStream
 * and CountTokens on their native paths, plus the Anthropic Messages format at `v1/messages`.
 * Credentials are SigV4 or a Bedrock API key; streams are AWS event-streams, relayed as they
 * come and decoded on the side for usage.
 */
import { anthropicErrorShape } from '../anthropic/errors'
import type { ProviderApi } from '../types'
import { bedrockStreamFormat } from './stream-events'
import { bedrockCompat } from './compat'
import { BEDROCK_FORWARD_HEADERS, classifyBedrock } from './endpoints'
import { isAnthropicPath } from './anthropic'
import { bedrockErrorFrame, bedrockErrorShape } from './errors'
import { EVENT_STREAM_CONTENT_TYPE, eventStreamDecoder } from './eventstream'
import { eventStreamErrorScreen } from './error-frames'
import { BEDROCK_BASE_URL_TEMPLATE } from './model-path'
import { bedrockObjects } from './objects'
import { prepareBedrock } from './upstream'
import { PRICING_PROVIDER, bedrockJsonUsage, bedrockStreamUsage } from './usage'
import { bedrockTelemetry } from './telemetry'
import { checkBedrockProvider } from './config-check'

/** AWS SDKs mark themselves with `amz-sdk-*` / `x-amz-*` headers and their user-agent. */
function isAwsClient(headers: Headers): boolean {
  for (const name of headers.keys()) if (name.startsWith('x-amz-') || name.startsWith('amz-sdk-')) return true
  return /\b(aws-sdk-|Boto3\/|Botocore\/)/i.test(headers.get('user-agent') ?? '')
}

export const bedrockApi: ProviderApi = {
  api: 'bedrock',
  aliases: ['bedrock'],
  defaultBaseUrl: BEDROCK_BASE_URL_TEMPLATE,
  pricingProvider: PRICING_PROVIDER,
  genAiProvider: 'aws.bedrock',
  errors: bedrockErrorShape,
  errorsFor: (path) => (isAnthropicPath(path) ? anthropicErrorShape : bedrockErrorShape),
  streamDecoder: eventStreamDecoder,
  streamContentType: EVENT_STREAM_CONTENT_TYPE,
  streamErrorScreen: eventStreamErrorScreen,
  streamErrorEvent: bedrockErrorFrame,
  classify: classifyBedrock,
  forwardHeaders: BEDROCK_FORWARD_HEADERS,
  prepare: prepareBedrock,
  matchesHeaders: isAwsClient,
  compat: bedrockCompat,
  jsonUsage: (body) => bedrockJsonUsage(body),
  streamUsage: () => bedrockStreamUsage(),
  streamFormat: bedrockStreamFormat,
  telemetry: bedrockTelemetry,
  checkConfig: checkBedrockProvider,
  objects: bedrockObjects,
}
