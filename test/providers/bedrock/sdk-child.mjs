/**
 * Runs in a child process (node or bun): the DEFAULT @aws-sdk/client-bedrock-runtime client,
 * with only `endpoint` and region given and the gateway key in AWS_BEARER_TOKEN_BEDROCK, as a
 * user configures it; a test CA comes only from NODE_EXTRA_CA_CERTS. Reads the calls to make
 * as JSON on stdin and prints what the SDK parsed as JSON on stdout.
 */
import {
  BedrockRuntimeClient,
  ConverseCommand,
  ConverseStreamCommand,
  InvokeModelCommand,
  InvokeModelWithResponseStreamCommand,
} from '@aws-sdk/client-bedrock-runtime'

const chunks = []
for await (const c of process.stdin) chunks.push(c)
const calls = JSON.parse(Buffer.concat(chunks).toString('utf8'))
const client = new BedrockRuntimeClient({ region: 'us-east-1', endpoint: process.env.TOLLGATE_ENDPOINT, maxAttempts: 1 })
const plain = (v) => JSON.parse(JSON.stringify(v))
const out = []
for (const call of calls) {
  try {
    if (call.op === 'converse') {
      const { $metadata, ...output } = await client.send(new ConverseCommand(call.input))
      out.push({ status: $metadata.httpStatusCode, output })
    } else if (call.op === 'converseStream') {
      const got = await client.send(new ConverseStreamCommand(call.input))
      const events = []
      for await (const e of got.stream) events.push(plain(e))
      out.push({ status: got.$metadata.httpStatusCode, events })
    } else if (call.op === 'invoke') {
      const got = await client.send(new InvokeModelCommand(call.input))
      out.push({ status: got.$metadata.httpStatusCode, body: JSON.parse(new TextDecoder().decode(got.body)) })
    } else if (call.op === 'invokeStream') {
      const got = await client.send(new InvokeModelWithResponseStreamCommand(call.input))
      const events = []
      for await (const e of got.body) events.push(JSON.parse(new TextDecoder().decode(e.chunk.bytes)))
      out.push({ status: got.$metadata.httpStatusCode, events })
    }
  } catch (e) {
    out.push({ error: { name: e.name, message: e.message, status: e.$metadata?.httpStatusCode } })
  }
}
client.destroy()
process.stdout.write(JSON.stringify(out))
