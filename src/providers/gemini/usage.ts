/** Gemini API usage: `usageMetadata` in JSON bodies; the last one a stream carries. */
export { googleJsonUsage as geminiJsonUsage, googleStreamUsage as geminiStreamUsage } from '../shared/google-usage'
