/** The Gemini API answers errors in Google's shape, which @google/genai raises as ApiError. */
export { googleErrorShape as geminiErrorShape, googleErrorEvent as geminiErrorEvent } from '../shared/google-errors'
