/** Groq's files and batches answer as OpenAI's do. */
export { openAiObjects as groqObjects } from '../shared/openai-objects'
