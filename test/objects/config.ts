/** The gateway config the object tests share: projects a and b, one key each, three formats and an unisolated OpenAI. */
export const KEY_A = 'tg-objects-project-a-key-000000000001'
export const KEY_B = 'tg-objects-project-b-key-000000000002'

/** Projects a and b, a user in both, and one key each (KEY_A, KEY_B). */
export const TWO_PROJECTS = `[[projects]]
id = "a"

[[projects]]
id = "b"

[[users]]
id = "root"
role = "admin"
projects = ["a", "b"]

[[keys]]
id = "ka"
project = "a"
user = "root"
key = "${KEY_A}"

[[keys]]
id = "kb"
project = "b"
user = "root"
key = "${KEY_B}"
`

export function objectsToml(upstream: string): string {
  return `
[[providers]]
id = "openai"
api = "openai"
base_url = "${upstream}/openai/v1"
api_key = "sk-test-objects"

[[providers]]
id = "openai-solo"
api = "openai"
base_url = "${upstream}/openai/v1"
api_key = "sk-test-objects"
isolation = "none"

[[providers]]
id = "groq"
api = "groq"
base_url = "${upstream}/groq"
api_key = "gsk_test_objects"

[[providers]]
id = "anthropic"
api = "anthropic"
base_url = "${upstream}/anthropic"
api_key = "sk-ant-test-objects"

[[providers]]
id = "gemini"
api = "gemini"
base_url = "${upstream}/gemini"
api_key = "AIza-test-objects"

${TWO_PROJECTS}`
}
