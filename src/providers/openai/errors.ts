/** OpenAI's native error body: `{"error":{"message","type","param","code"}}`. */
export { openAiErrorShape, openAiErrorEvent } from '../shared/openai-errors'
