/** OpenAI's provider-side objects: files, responses, batches, uploads, vector stores, containers, conversations. */
export { openAiObjects } from '../shared/openai-objects'
