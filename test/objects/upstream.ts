/**
 * A local upstream that keeps provider-side objects the way OpenAI, Anthropic and the Gemini API
 * do, shared by every caller (as one provider credential is): files, responses, batches, lists.
 * Creation answers are the recorded ones where a recording has them (OpenAI's file, vector
 * store and streamed response, Gemini's file search store: the file-search cassettes), with
 * fresh ids, else bodies in the provider's documented shape. It counts every call
 * by `METHOD path`, so a test can prove a refused request never arrived.
 */
import { loadCassette } from '../support/recordings'
import { googleMissing, idCounter, now, serveCounted, unexpected, type CountedServer, type Json } from './counted-server'

export type ObjectUpstream = CountedServer

export async function startObjectUpstream(): Promise<ObjectUpstream> {
  const cassette = await loadCassette('openai_responses', 'test_openai_responses_model_file_search_tool_stream')
  const recordedFile = cassette.interactions.find((i) => i.method === 'POST' && i.path === '/v1/files')!.responseJson as Json
  const recordedStore = cassette.interactions.find((i) => i.method === 'POST' && i.path === '/v1/vector_stores')!.responseJson as Json
  const streamed = cassette.interactions.find((i) => i.method === 'POST' && i.path === '/v1/responses')!
  const streamedId = /"id":"(resp_[^"]+)"/.exec(new TextDecoder().decode(streamed.responseBody))![1]!
  const google = await loadCassette('google', 'test_google_model_file_search_grounding_gemini_3[False]')
  const recordedSearchStore = google.interactions.find((i) => i.method === 'POST' && i.path === '/v1beta/fileSearchStores')!.responseJson as Json
  const next = idCounter()
  // Shared state, as upstream: every project's objects in one account.
  const openaiFiles = new Map<string, Json>()
  const responses = new Map<string, Json>()
  const batches = new Map<string, Json>()
  const stores = new Map<string, Json>()
  const anthropicFiles = new Map<string, Json>()
  const msgBatches = new Map<string, Json>()
  const geminiFiles = new Map<string, Json>()
  const geminiBatches = new Map<string, Json>()
  const cached = new Map<string, Json>()
  const searchStores = new Map<string, Json>()

  const openAiMissing = (what: string, id: string) => Response.json({ error: { message: `No such ${what} object: ${id}`, type: 'invalid_request_error', param: 'id', code: null } }, { status: 404 })
  const anthropicMissing = (id: string) => Response.json({ type: 'error', error: { type: 'not_found_error', message: `${id} not found` } }, { status: 404 })
  const list = (m: Map<string, Json>) => {
    const data = [...m.values()]
    return { object: 'list', data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: false }
  }

  const server = serveCounted(['openai', 'groq', 'anthropic', 'gemini'], (provider, m, p, json, req, u) => {
    if (provider === 'openai') return openai(m, p, json)
    // Groq's OpenAI-compatible API sits under /openai/v1 and answers as OpenAI does.
    if (provider === 'groq' && p.startsWith('/openai/v1/')) return openai(m, p.slice('/openai'.length), json)
    if (provider === 'anthropic') return anthropic(m, p, json)
    if (provider === 'gemini') return gemini(m, p, json, req.headers, u)
    return unexpected(m, u.pathname)
  })

  function openai(m: string, p: string, json: () => Json): Response {
    let r: RegExpExecArray | null
    if (m === 'POST' && p === '/v1/files') {
      const id = `file-${next()}RhPAs9YqVajpG`
      const file = { ...recordedFile, id, created_at: now() }
      openaiFiles.set(id, file)
      return Response.json(file)
    }
    if (m === 'GET' && p === '/v1/files') return Response.json(list(openaiFiles))
    if ((r = /^\/v1\/files\/([^/]+)(\/content)?$/.exec(p))) {
      const f = openaiFiles.get(r[1]!)
      if (!f) return openAiMissing('File', r[1]!)
      if (m === 'DELETE') {
        openaiFiles.delete(r[1]!)
        return Response.json({ id: r[1], object: 'file', deleted: true })
      }
      return r[2] ? new Response(`contents of ${r[1]}`, { headers: { 'content-type': 'application/octet-stream' } }) : Response.json(f)
    }
    if (m === 'POST' && p === '/v1/responses' && json().stream === true) {
      // The recorded stream, as OpenAI sent it: its first event carries the new response's id.
      responses.set(streamedId, { id: streamedId, object: 'response', status: 'completed', output: [] })
      return new Response(streamed.responseBody, { headers: { 'content-type': 'text/event-stream; charset=utf-8' } })
    }
    if (m === 'POST' && p === '/v1/responses') {
      const j = json()
      if (j.previous_response_id && !responses.has(j.previous_response_id as string)) {
        return Response.json({ error: { message: 'Previous response not found.', type: 'invalid_request_error', param: 'previous_response_id', code: 'previous_response_not_found' } }, { status: 404 })
      }
      const id = `resp_${next()}dcb10dc68b990006931d756c6fc819b`
      const resp = {
        id,
        object: 'response',
        created_at: now(),
        status: 'completed',
        model: j.model,
        output: [{ id: `msg_${next()}`, type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: 'Paris.', annotations: [] }] }],
        previous_response_id: j.previous_response_id ?? null,
        store: true,
        usage: { input_tokens: 12, input_tokens_details: { cached_tokens: 0 }, output_tokens: 2, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 14 },
      }
      responses.set(id, resp)
      return Response.json(resp)
    }
    if ((r = /^\/v1\/responses\/([^/]+)$/.exec(p))) {
      const resp = responses.get(r[1]!)
      if (!resp) return Response.json({ error: { message: `Response with id '${r[1]}' not found.`, type: 'invalid_request_error', param: null, code: null } }, { status: 404 })
      if (m === 'DELETE') {
        responses.delete(r[1]!)
        return Response.json({ id: r[1], object: 'response', deleted: true })
      }
      return Response.json(resp)
    }
    if (m === 'POST' && p === '/v1/batches') {
      const j = json()
      if (!openaiFiles.has(j.input_file_id as string)) return openAiMissing('File', j.input_file_id as string)
      const id = `batch_${next()}6931d752e41c8191833fc`
      const batch = { id, object: 'batch', endpoint: j.endpoint, errors: null, input_file_id: j.input_file_id, completion_window: '24h', status: 'validating', output_file_id: null, error_file_id: null, created_at: now(), expires_at: now() + 86400, request_counts: { total: 0, completed: 0, failed: 0 }, metadata: null }
      batches.set(id, batch)
      return Response.json(batch)
    }
    if (m === 'GET' && p === '/v1/batches') return Response.json(list(batches))
    if ((r = /^\/v1\/batches\/([^/]+)(\/cancel)?$/.exec(p))) {
      const b = batches.get(r[1]!)
      if (!b) return openAiMissing('Batch', r[1]!)
      if (r[2]) b.status = 'cancelling'
      return Response.json(b)
    }
    if (m === 'POST' && p === '/v1/vector_stores') {
      const id = `vs_${next()}31d752e41c8191833fcaad1cf47055`
      const store = { ...recordedStore, id, created_at: now() }
      stores.set(id, store)
      return Response.json(store)
    }
    return unexpected(m, p)
  }

  function anthropic(m: string, p: string, json: () => Json): Response {
    let r: RegExpExecArray | null
    if (m === 'POST' && p === '/v1/messages') {
      const j = json()
      return Response.json({ id: `msg_${next()}`, type: 'message', role: 'assistant', model: j.model, content: [{ type: 'text', text: 'Paris.' }], stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: 10, output_tokens: 2 } })
    }
    if (m === 'POST' && p === '/v1/files') {
      const id = `file_011C${next()}NLZ6jrXSbVFsRqWd`
      const file = { id, type: 'file', filename: 'notes.txt', mime_type: 'text/plain', size_bytes: 11, created_at: new Date().toISOString(), downloadable: false }
      anthropicFiles.set(id, file)
      return Response.json(file)
    }
    if (m === 'GET' && p === '/v1/files') {
      const data = [...anthropicFiles.values()]
      return Response.json({ data, has_more: false, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null })
    }
    if ((r = /^\/v1\/files\/([^/]+)(\/content)?$/.exec(p))) {
      const f = anthropicFiles.get(r[1]!)
      if (!f) return anthropicMissing(r[1]!)
      if (m === 'DELETE') {
        anthropicFiles.delete(r[1]!)
        return Response.json({ id: r[1], type: 'file_deleted' })
      }
      return r[2] ? new Response('hello world', { headers: { 'content-type': 'text/plain' } }) : Response.json(f)
    }
    if (m === 'POST' && p === '/v1/messages/batches') {
      const id = `msgbatch_01${next()}HkcaFZvpJnMgKvq9`
      const created = new Date()
      const batch = {
        id,
        type: 'message_batch',
        processing_status: 'in_progress',
        request_counts: { processing: (json().requests as unknown[]).length, succeeded: 0, errored: 0, canceled: 0, expired: 0 },
        ended_at: null,
        created_at: created.toISOString(),
        expires_at: new Date(created.getTime() + 86_400_000).toISOString(),
        archived_at: null,
        cancel_initiated_at: null,
        // As once it has ended: the URL names the API's own host.
        results_url: `${server.url}/anthropic/v1/messages/batches/${id}/results`,
      }
      msgBatches.set(id, batch)
      return Response.json(batch)
    }
    if (m === 'GET' && p === '/v1/messages/batches') {
      const data = [...msgBatches.values()]
      return Response.json({ data, has_more: false, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null })
    }
    if ((r = /^\/v1\/messages\/batches\/([^/]+)(\/results|\/cancel)?$/.exec(p))) {
      const b = msgBatches.get(r[1]!)
      if (!b) return anthropicMissing(r[1]!)
      if (m === 'DELETE') {
        msgBatches.delete(r[1]!)
        return Response.json({ id: r[1], type: 'message_batch_deleted' })
      }
      if (r[2] === '/results') return new Response(`{"custom_id":"q1","result":{"type":"succeeded"}}\n`, { headers: { 'content-type': 'application/binary' } })
      if (r[2] === '/cancel') b.processing_status = 'canceling'
      return Response.json(b)
    }
    return unexpected(m, p)
  }

  function gemini(m: string, p: string, json: () => Json, headers: Headers, u: URL): Response {
    let r: RegExpExecArray | null
    if (m === 'POST' && p === '/upload/v1beta/files') {
      const command = headers.get('x-goog-upload-command') ?? ''
      if (command === 'start') {
        const uploadId = `up-${next()}`
        return new Response(null, { headers: { 'x-goog-upload-status': 'active', 'x-goog-upload-url': `${server.url}/gemini/upload/v1beta/files?upload_id=${uploadId}&upload_protocol=resumable` } })
      }
      if (u.searchParams.get('upload_id') && command.includes('finalize')) {
        const id = `${next()}q7x2b9`
        const file = {
          name: `files/${id}`,
          mimeType: 'text/plain',
          sizeBytes: '11',
          createTime: new Date().toISOString(),
          updateTime: new Date().toISOString(),
          expirationTime: new Date(Date.now() + 2 * 86_400_000).toISOString(),
          sha256Hash: 'ZmFrZQ==',
          uri: `https://generativelanguage.googleapis.com/v1beta/files/${id}`,
          state: 'ACTIVE',
          source: 'UPLOADED',
        }
        geminiFiles.set(id, file)
        return Response.json({ file }, { headers: { 'x-goog-upload-status': 'final' } })
      }
      return Response.json({ error: { code: 400, message: 'bad upload step', status: 'INVALID_ARGUMENT' } }, { status: 400 })
    }
    if (m === 'GET' && p === '/v1beta/files') return Response.json(geminiFiles.size ? { files: [...geminiFiles.values()] } : {})
    if ((r = /^\/v1beta\/files\/([^/]+)$/.exec(p))) {
      const f = geminiFiles.get(r[1]!)
      if (!f) return googleMissing()
      if (m === 'DELETE') {
        geminiFiles.delete(r[1]!)
        return Response.json({})
      }
      return Response.json(f)
    }
    if (m === 'POST' && (r = /^\/v1beta\/models\/([^/:]+):batchGenerateContent$/.exec(p))) {
      const id = `${next()}k2m9zq4t`
      const batch = {
        name: `batches/${id}`,
        metadata: {
          '@type': 'type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch',
          model: `models/${r[1]}`,
          displayName: (json().batch as Json | undefined)?.display_name ?? 'batch',
          createTime: new Date().toISOString(),
          updateTime: new Date().toISOString(),
          batchStats: { requestCount: '1', pendingRequestCount: '1' },
          state: 'BATCH_STATE_PENDING',
          name: `batches/${id}`,
        },
      }
      geminiBatches.set(id, batch)
      return Response.json(batch)
    }
    if (m === 'GET' && p === '/v1beta/batches') return Response.json(geminiBatches.size ? { operations: [...geminiBatches.values()] } : {})
    if ((r = /^\/v1beta\/batches\/([^/:]+)(:cancel)?$/.exec(p))) {
      const b = geminiBatches.get(r[1]!)
      if (!b) return googleMissing()
      if (m === 'DELETE') {
        geminiBatches.delete(r[1]!)
        return Response.json({})
      }
      return Response.json(r[2] ? {} : b)
    }
    if (m === 'POST' && p === '/v1beta/cachedContents') {
      const j = json()
      const id = `${next()}c4ch3d`
      const c = { name: `cachedContents/${id}`, model: j.model, createTime: new Date().toISOString(), updateTime: new Date().toISOString(), expireTime: new Date(Date.now() + 3_600_000).toISOString(), displayName: '', usageMetadata: { totalTokenCount: 4096 } }
      cached.set(id, c)
      return Response.json(c)
    }
    if ((r = /^\/v1beta\/cachedContents\/([^/]+)$/.exec(p))) {
      const c = cached.get(r[1]!)
      if (!c) return googleMissing()
      if (m === 'PATCH') {
        const ttl = Number.parseInt(String(json().ttl ?? '3600s'), 10)
        c.expireTime = new Date(Date.now() + ttl * 1000).toISOString()
      }
      if (m === 'DELETE') {
        cached.delete(r[1]!)
        return Response.json({})
      }
      return Response.json(c)
    }
    if (m === 'POST' && p === '/v1beta/fileSearchStores') {
      const name = `${recordedSearchStore.name as string}${next()}`
      const store = { ...recordedSearchStore, name }
      searchStores.set(name, store)
      return Response.json(store)
    }
    if (m === 'GET' && p === '/v1beta/fileSearchStores') return Response.json(searchStores.size ? { fileSearchStores: [...searchStores.values()] } : {})
    if ((r = /^\/v1beta\/(fileSearchStores\/[^/]+)$/.exec(p))) {
      const store = searchStores.get(r[1]!)
      if (!store) return googleMissing()
      if (m === 'DELETE') {
        searchStores.delete(r[1]!)
        return Response.json({})
      }
      return Response.json(store)
    }
    if (m === 'POST' && (r = /^\/v1beta\/models\/([^/:]+):generateContent$/.exec(p))) {
      return Response.json({
        candidates: [{ content: { role: 'model', parts: [{ text: 'Paris.' }] }, finishReason: 'STOP', index: 0 }],
        usageMetadata: { promptTokenCount: 8, candidatesTokenCount: 2, totalTokenCount: 10 },
        modelVersion: r[1],
      })
    }
    return unexpected(m, p)
  }

  return server
}
