/**
 * A local upstream for the object kinds made beside a model call, shared by every caller as one
 * provider credential is: OpenAI containers (the Containers API, and auto containers a code
 * interpreter makes in a response), Anthropic code-execution containers (made by a message,
 * reused by id), and Vertex AI cached contents and batch prediction jobs in the provider's project.
 * Answers are the recorded ones where a recording has them (OpenAI's code-interpreter stream,
 * Anthropic's container-reuse messages and code-execution stream), else the documented shapes.
 * Every call is counted, so a test can prove a refused request never arrived.
 */
import { loadCassette } from '../support/recordings'
import { googleMissing, idCounter, now, serveCounted, unexpected, type Json } from './counted-server'

export interface ContainerUpstream {
  url: string
  total(): number
  count(method: string, path: string): number
  /** The container ids the recorded streams name. */
  streamedOpenAiContainer: string
  streamedAnthropicContainer: string
  /** The Vertex project number answers name (the provider's project, as Google spells it). */
  vertexProjectNumber: string
  /** Paths the Vertex stub received. */
  vertexPaths: string[]
  stop(): void
}

const utf8 = new TextDecoder()

export async function startContainerUpstream(vertexProject: string): Promise<ContainerUpstream> {
  const openaiStream = (await loadCassette('openai_responses', 'test_openai_responses_thinking_with_code_execution_tool_stream')).interactions.find((i) => i.path === '/v1/responses')!
  const streamedOpenAiContainer = /"container_id":"(cntr_[^"]+)"/.exec(utf8.decode(openaiStream.responseBody))![1]!
  const reuse = (await loadCassette('anthropic', 'test_anthropic_code_execution_tool_container_reuse')).interactions
  const firstMessage = reuse[0]!.responseJson as Json
  const reusedMessage = reuse[1]!.responseJson as Json
  const anthropicStream = (await loadCassette('anthropic', 'test_anthropic_text_editor_code_execution_tool_stream')).interactions.find((i) => i.path === '/v1/messages')!
  const streamedAnthropicContainer = /"container":\{"id":"(container_[^"]+)"/.exec(utf8.decode(anthropicStream.responseBody))![1]!
  const vertexProjectNumber = '845631297043'

  const vertexPaths: string[] = []
  const next = idCounter()
  const openaiContainers = new Map<string, Json>([[streamedOpenAiContainer, { id: streamedOpenAiContainer, object: 'container' }]])
  const anthropicContainers = new Set<string>([streamedAnthropicContainer])
  const cached = new Map<string, Json>()
  const jobs = new Map<string, Json>()

  const server = serveCounted(['openai', 'anthropic', 'vertex'], (provider, m, p, json) => {
    if (provider === 'openai') return openai(m, p, json)
    if (provider === 'anthropic') return anthropic(m, p, json)
    return vertex(m, p, json)
  })

  const openAiMissing = (id: string) => Response.json({ error: { message: `Container with id '${id}' not found.`, type: 'invalid_request_error', param: null, code: null } }, { status: 404 })
  const container = (name: string): Json => {
    const id = `cntr_${next()}a4cfc81908bdd4f2a2f542b5c0a0e691ad2bfd833`
    const c = { id, object: 'container', created_at: now(), status: 'running', expires_after: { anchor: 'last_active_at', minutes: 20 }, last_active_at: now(), memory_limit: '1g', name }
    openaiContainers.set(id, c)
    return c
  }

  function openai(m: string, p: string, json: () => Json): Response {
    let r: RegExpExecArray | null
    if (m === 'POST' && p === '/v1/containers') return Response.json(container(String(json().name ?? '')))
    if (m === 'GET' && p === '/v1/containers') {
      const data = [...openaiContainers.values()]
      return Response.json({ object: 'list', data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: false })
    }
    if ((r = /^\/v1\/containers\/([^/]+)(\/files)?$/.exec(p))) {
      const c = openaiContainers.get(r[1]!)
      if (!c) return openAiMissing(r[1]!)
      if (r[2] && m === 'POST') return Response.json({ id: `cfile_${next()}`, object: 'container.file', created_at: now(), bytes: 5, container_id: r[1], path: '/mnt/data/a.txt', source: 'user' })
      if (r[2]) return Response.json({ object: 'list', data: [], first_id: null, last_id: null, has_more: false })
      if (m === 'DELETE') {
        openaiContainers.delete(r[1]!)
        return Response.json({ id: r[1], object: 'container.deleted', deleted: true })
      }
      return Response.json(c)
    }
    if (m === 'POST' && p === '/v1/responses') {
      const j = json()
      // The recorded stream, as OpenAI sent it: its code interpreter ran in an auto container.
      if (j.stream === true) return new Response(openaiStream.responseBody, { headers: { 'content-type': 'text/event-stream; charset=utf-8' } })
      const tool = (j.tools as Json[] | undefined)?.find((t) => t.type === 'code_interpreter')
      const asked = tool?.container
      let id: string
      if (typeof asked === 'string') {
        if (!openaiContainers.has(asked)) return openAiMissing(asked)
        id = asked
      } else id = container('auto').id as string
      return Response.json({
        id: `resp_${next()}e6fc819e80fb94b25b7d031b0f2d670b80edc507`,
        object: 'response',
        created_at: now(),
        status: 'completed',
        model: j.model,
        output: [
          { id: `ci_${next()}`, type: 'code_interpreter_call', status: 'completed', code: '3 * 12390', container_id: id, outputs: null },
          { id: `msg_${next()}`, type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: '37170', annotations: [] }] },
        ],
        usage: { input_tokens: 30, input_tokens_details: { cached_tokens: 0 }, output_tokens: 8, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 38 },
      })
    }
    return unexpected(m, p)
  }

  function anthropic(m: string, p: string, json: () => Json): Response {
    if (m !== 'POST' || p !== '/v1/messages') return unexpected(m, p)
    const j = json()
    // The recorded stream with its container's expiry moved to the future (the recording's has passed).
    if (j.stream === true) return new Response(utf8.decode(anthropicStream.responseBody).replaceAll(/"expires_at":"[^"]+"/g, `"expires_at":"${new Date(Date.now() + 3_600_000).toISOString()}"`), { headers: { 'content-type': 'text/event-stream; charset=utf-8' } })
    const asked = typeof j.container === 'string' ? j.container : undefined
    if (asked && !anthropicContainers.has(asked)) {
      return Response.json({ type: 'error', error: { type: 'invalid_request_error', message: `container_id ${asked} not found` } }, { status: 400 })
    }
    // The recorded answers, with a fresh container for a new one and the same one when reused.
    const id = asked ?? `container_011C${next()}gq9X3d68B2So2LZGmk`
    anthropicContainers.add(id)
    const recorded = asked ? reusedMessage : firstMessage
    return Response.json({ ...recorded, container: { ...(recorded.container as Json), id, expires_at: new Date(Date.now() + 3_600_000).toISOString() } })
  }

  function vertex(m: string, p: string, json: () => Json): Response {
    vertexPaths.push(`${m} ${p}`)
    const base = `/v1beta1/projects/${vertexProject}/locations/global/`
    if (!p.startsWith(base)) return unexpected(m, p)
    const rest = p.slice(base.length)
    const name = (collection: string, id: string) => `projects/${vertexProjectNumber}/locations/global/${collection}/${id}`
    let r: RegExpExecArray | null
    if (m === 'POST' && rest === 'cachedContents') {
      const id = `${Date.now()}${next()}`.replace(/\D/g, '7')
      const c = { name: name('cachedContents', id), model: json().model, createTime: new Date().toISOString(), updateTime: new Date().toISOString(), expireTime: new Date(Date.now() + 3_600_000).toISOString(), usageMetadata: { totalTokenCount: 4096 } }
      cached.set(id, c)
      return Response.json(c)
    }
    if (m === 'GET' && rest === 'cachedContents') return Response.json(cached.size ? { cachedContents: [...cached.values()] } : {})
    if ((r = /^cachedContents\/([^/]+)$/.exec(rest))) {
      const c = cached.get(r[1]!)
      if (!c) return googleMissing()
      if (m === 'DELETE') {
        cached.delete(r[1]!)
        return Response.json({})
      }
      if (m === 'PATCH') c.expireTime = new Date(Date.now() + 7_200_000).toISOString()
      return Response.json(c)
    }
    if (m === 'POST' && rest === 'batchPredictionJobs') {
      const j = json()
      const id = `${Date.now()}${next()}`.replace(/\D/g, '3')
      const job = { name: name('batchPredictionJobs', id), displayName: j.displayName, model: j.model, inputConfig: j.inputConfig, outputConfig: j.outputConfig, state: 'JOB_STATE_PENDING', createTime: new Date().toISOString(), updateTime: new Date().toISOString() }
      jobs.set(id, job)
      return Response.json(job)
    }
    if (m === 'GET' && rest === 'batchPredictionJobs') return Response.json(jobs.size ? { batchPredictionJobs: [...jobs.values()] } : {})
    if ((r = /^batchPredictionJobs\/([^/:]+)(:cancel)?$/.exec(rest))) {
      const job = jobs.get(r[1]!)
      if (!job) return googleMissing()
      if (m === 'DELETE') {
        jobs.delete(r[1]!)
        return Response.json({ name: `projects/${vertexProjectNumber}/locations/global/operations/${next()}`, done: true })
      }
      if (r[2]) return Response.json({})
      return Response.json(job)
    }
    if (m === 'POST' && (r = /^publishers\/google\/models\/([^/:]+):generateContent$/.exec(rest))) {
      const cachedContent = json().cachedContent as string | undefined
      if (cachedContent && !cached.has(cachedContent.split('/').at(-1)!)) return googleMissing()
      return Response.json({
        candidates: [{ content: { role: 'model', parts: [{ text: 'Paris.' }] }, finishReason: 'STOP' }],
        usageMetadata: { promptTokenCount: 4100, cachedContentTokenCount: 4096, candidatesTokenCount: 2, totalTokenCount: 4102 },
        modelVersion: r[1],
      })
    }
    return unexpected(m, p)
  }

  return {
    url: server.url,
    total: server.total,
    count: server.count,
    streamedOpenAiContainer,
    streamedAnthropicContainer,
    vertexProjectNumber,
    vertexPaths,
    stop: server.stop,
  }
}
