/**
 * The OpenAPI 3.1 document of the admin API, which @elysiajs/openapi writes from the routes'
 * own schemas, and a small docs page that renders it (served from the binary; no CDN, so not
 * the plugin's Scalar or Swagger UI pages, which load from one).
 */
import { openapi } from '@elysiajs/openapi'
import { VERSION } from '../version'
import { API_PREFIX, plain } from './api'
import { ErrorBody } from './schemas'

/** Serves the document at /admin/api/openapi.json; mounted in the admin plugin (prefix /admin). */
export function apiDocument() {
  return openapi({
    provider: null,
    specPath: '/api/openapi.json',
    openapiVersion: '3.1.0',
    // The plugin reads every route of the app; the document is the admin API's alone.
    exclude: { paths: [new RegExp(`^(?!/admin${API_PREFIX}/)`)] },
    documentation: {
      info: {
        title: 'Tollgate admin API',
        version: VERSION,
        description:
          'Manage projects, users, providers, keys and limits, and read usage, the request log and the audit log. ' +
          'Authenticate with the browser session cookie (then echo the CSRF token from GET /session in x-csrf-token on every change) ' +
          'or with an admin token: `Authorization: Bearer tga_…` (`tollgate admin-token create`). Gateway keys are not accepted. ' +
          'Objects outside your reach answer 404. Too many failed attempts from one address answer 429 with retry-after. Unknown fields are refused with 400. ' +
          'Money is integer nano-dollars (1e-9 USD); times are epoch milliseconds.',
      },
      servers: [{ url: '/' }],
      security: [{ session: [] }, { adminToken: [] }],
      components: {
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: 'tollgate_session' },
          adminToken: { type: 'http', scheme: 'bearer', bearerFormat: 'tga_<id>_<secret>' },
        },
        responses: {
          Error: { description: 'Error', content: { 'application/json': { schema: plain(ErrorBody) } } },
          TooManyAttempts: {
            description: 'Too many failed sign-in attempts from this address (code too_many_attempts); nothing was looked up',
            headers: { 'retry-after': { description: 'Seconds until the address may try again', schema: { type: 'integer' } } },
            content: { 'application/json': { schema: plain(ErrorBody) } },
          },
        },
      },
    },
  })
}

export const DOCS_HTML = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Tollgate admin API</title>
<style>
body{font:14px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d2330;background:#f5f6f8}
header{background:#1d2330;color:#fff;padding:14px 24px}header h1{margin:0;font-size:18px}main{max-width:980px;margin:0 auto;padding:16px 24px}
.desc{color:#3b4353}.tag{margin:24px 0 8px;font-size:16px;text-transform:capitalize}
details{background:#fff;border:1px solid #dde1e7;border-radius:6px;margin:6px 0}summary{padding:8px 12px;cursor:pointer;display:flex;gap:10px;align-items:center}
.m{font:600 12px ui-monospace,monospace;padding:2px 6px;border-radius:4px;color:#fff;min-width:52px;text-align:center}
.GET{background:#2f7d4a}.POST{background:#2457d6}.PATCH{background:#a76200}.PUT{background:#7a4bc2}.DELETE{background:#b3261e}
code,pre{font:12px ui-monospace,monospace}pre{background:#f1f3f6;padding:10px;border-radius:4px;overflow:auto;margin:6px 12px 12px}.p{color:#6b7385}
.body{padding:0 12px 8px}table{border-collapse:collapse;margin:4px 12px}td,th{border-bottom:1px solid #eceff3;padding:3px 8px;text-align:left}
</style></head><body><header><h1>Tollgate admin API</h1></header><main><p class="desc" id="desc">Loading…</p><div id="ops"></div>
<p><a href="/admin/api/openapi.json">openapi.json</a></p></main><script src="/admin/api/docs.js"></script></body></html>`

export const DOCS_JS = `(async function () {
  var doc = await (await fetch('/admin/api/openapi.json')).json();
  document.getElementById('desc').textContent = doc.info.description;
  var byTag = {};
  Object.keys(doc.paths).forEach(function (path) {
    Object.keys(doc.paths[path]).forEach(function (m) {
      var op = doc.paths[path][m]; var tag = (op.tags || ['other'])[0];
      (byTag[tag] = byTag[tag] || []).push({ path: path, method: m.toUpperCase(), op: op });
    });
  });
  var root = document.getElementById('ops');
  function el(t, cls, text) { var e = document.createElement(t); if (cls) e.className = cls; if (text != null) e.textContent = text; return e; }
  Object.keys(byTag).forEach(function (tag) {
    root.appendChild(el('h2', 'tag', tag.replace(/-/g, ' ')));
    byTag[tag].forEach(function (x) {
      var d = el('details'); var s = el('summary');
      s.appendChild(el('span', 'm ' + x.method, x.method)); s.appendChild(el('code', null, x.path)); s.appendChild(el('span', 'p', x.op.summary));
      d.appendChild(s); var b = el('div', 'body');
      if (x.op.parameters && x.op.parameters.length) {
        var t = el('table'); var h = el('tr'); ['parameter', 'in', 'type', 'required'].forEach(function (c) { h.appendChild(el('th', null, c)); }); t.appendChild(h);
        x.op.parameters.forEach(function (p) { var r = el('tr'); [p.name, p.in, (p.schema && (p.schema.type || (p.schema.anyOf ? 'one of' : ''))) || '', p.required ? 'yes' : ''].forEach(function (c) { r.appendChild(el('td', null, String(c))); }); t.appendChild(r); });
        b.appendChild(t);
      }
      if (x.op.requestBody) { b.appendChild(el('div', 'p', 'Request body')); b.appendChild(el('pre', null, JSON.stringify(x.op.requestBody.content['application/json'].schema, null, 2))); }
      var ok = Object.keys(x.op.responses)[0]; var c = x.op.responses[ok].content;
      if (c) { b.appendChild(el('div', 'p', 'Response ' + ok)); b.appendChild(el('pre', null, JSON.stringify(c['application/json'].schema, null, 2))); }
      d.appendChild(b); root.appendChild(d);
    });
  });
})();`
