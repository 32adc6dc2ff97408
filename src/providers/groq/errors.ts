/** Groq answers errors in OpenAI's shape, which groq-sdk parses the same way. */
export { openAiErrorShape as groqErrorShape, openAiErrorEvent as groqErrorEvent } from '../shared/openai-errors'
