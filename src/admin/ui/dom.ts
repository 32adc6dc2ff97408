/** A small DOM builder: every text goes in as text, never as HTML. */
type Child = Node | string | number | null | undefined | false | Child[]
type Attrs = Record<string, string | number | boolean | null | undefined | EventListener | ((e: any) => void)>

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2).toLowerCase(), v as EventListener)
    else if (k === 'class') el.className = String(v)
    else if (v === true) el.setAttribute(k, '')
    else el.setAttribute(k, String(v))
  }
  append(el, children)
  return el
}

function append(el: Node, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue
    if (Array.isArray(c)) append(el, c)
    else el.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)))
  }
}

export function clear(el: Element, ...children: Child[]): void {
  el.replaceChildren()
  append(el, children)
}

/** A form field with its label and an inline error slot; `input` carries the constraints. */
export function field(label: string, input: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement, hint?: string): HTMLElement {
  const id = input.id || `f-${Math.random().toString(36).slice(2, 9)}`
  input.id = id
  const err = h('div', { class: 'field-error', role: 'alert' })
  const check = () => (err.textContent = input.checkValidity() ? '' : input.validationMessage)
  input.addEventListener('blur', check)
  input.addEventListener('input', () => err.textContent && check())
  return h('div', { class: 'field' }, h('label', { for: id }, label), input, hint ? h('div', { class: 'hint' }, hint) : null, err)
}

/**
 * A form that validates inline, sends through `submit`, and shows the API's error message
 * under the button. Returns the form element.
 */
export function form(fields: Node[], submitLabel: string, submit: (data: FormData) => Promise<void>, opts: { class?: string } = {}): HTMLFormElement {
  const error = h('div', { class: 'form-error', role: 'alert' })
  const button = h('button', { type: 'submit', class: 'primary' }, submitLabel)
  const f = h('form', { class: opts.class ?? 'stack', novalidate: true }, ...fields, h('div', { class: 'actions' }, button), error)
  f.addEventListener('submit', async (e) => {
    e.preventDefault()
    error.textContent = ''
    if (!f.checkValidity()) {
      for (const el of Array.from(f.elements) as HTMLInputElement[]) el.dispatchEvent(new Event('blur'))
      ;(f.querySelector(':invalid') as HTMLElement | null)?.focus()
      return
    }
    button.disabled = true
    try {
      await submit(new FormData(f))
    } catch (err) {
      error.textContent = (err as Error).message
    } finally {
      button.disabled = false
    }
  })
  return f
}

export function input(name: string, attrs: Attrs = {}): HTMLInputElement {
  return h('input', { name, ...attrs })
}

export function select(name: string, options: [string, string][], attrs: Attrs = {}): HTMLSelectElement {
  return h('select', { name, ...attrs }, ...options.map(([v, label]) => h('option', { value: v }, label)))
}

export function table(headers: string[], rows: (Node | string)[][], opts: { caption?: string; empty?: Node | string } = {}): HTMLElement {
  if (!rows.length && opts.empty) return h('div', { class: 'empty' }, opts.empty)
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      {},
      opts.caption ? h('caption', {}, opts.caption) : null,
      h('thead', {}, h('tr', {}, ...headers.map((x) => h('th', { scope: 'col' }, x)))),
      h('tbody', {}, ...rows.map((r) => h('tr', {}, ...r.map((c) => h('td', {}, c))))),
    ),
  )
}

export function badge(text: string, kind = ''): HTMLElement {
  return h('span', { class: `badge ${kind}` }, text)
}

/** A dialog that shows a secret once, with a copy button. */
export function secretDialog(title: string, secret: string, note: string): void {
  const dlg = h('dialog', { class: 'secret', 'aria-labelledby': 'secret-title' })
  const code = h('code', { class: 'secret-value' }, secret)
  const copy = h('button', { type: 'button', onclick: () => void navigator.clipboard?.writeText(secret).then(() => (copy.textContent = 'Copied')) }, 'Copy')
  const close = h('button', { type: 'button', class: 'primary', onclick: () => (dlg.close(), dlg.remove()) }, 'Done')
  dlg.append(h('h2', { id: 'secret-title' }, title), h('p', {}, note), h('div', { class: 'secret-row' }, code, copy), h('div', { class: 'actions' }, close))
  document.body.appendChild(dlg)
  dlg.showModal()
  close.focus()
}
