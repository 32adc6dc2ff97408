/** Small server-rendered pages for sign-in steps (setup link, invitation, errors). No scripts. */
const CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)
}

/** `body` is trusted HTML built by the caller with escapeHtml around every value. */
export function page(title: string, body: string, status = 200, headers: Record<string, string> = {}): Response {
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)} · Tollgate</title>
<style>
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;background:#f5f6f8;color:#1d2330;margin:0;display:flex;min-height:100vh;align-items:center;justify-content:center}
main{background:#fff;border:1px solid #dde1e7;border-radius:10px;padding:32px 36px;max-width:460px;width:100%;box-shadow:0 2px 10px rgba(0,0,0,.04)}
h1{font-size:20px;margin:0 0 12px}p{margin:8px 0 16px;color:#3b4353}
a.btn,button{display:inline-block;background:#2457d6;color:#fff;border:0;border-radius:6px;padding:9px 16px;font:inherit;text-decoration:none;cursor:pointer}
a.btn:focus,button:focus{outline:3px solid #9bb7ff}label{display:block;margin:10px 0 4px;font-weight:600}
input{font:inherit;padding:7px 9px;border:1px solid #c4cad4;border-radius:6px;width:100%;box-sizing:border-box}.brand{font-weight:700;color:#2457d6;margin-bottom:14px}
.muted{color:#6b7385;font-size:13px}
</style></head><body><main><div class="brand">Tollgate</div><h1>${escapeHtml(title)}</h1>${body}</main></body></html>`
  const h = new Headers(headers)
  h.set('content-type', 'text/html; charset=utf-8')
  h.set('content-security-policy', CSP)
  h.set('cache-control', 'no-store')
  h.set('referrer-policy', 'no-referrer')
  h.set('x-frame-options', 'DENY')
  return new Response(html, { status, headers: h })
}

export function errorPage(title: string, message: string, status: number): Response {
  return page(title, `<p>${escapeHtml(message)}</p><p><a class="btn" href="/admin/">Back to Tollgate</a></p>`, status)
}
