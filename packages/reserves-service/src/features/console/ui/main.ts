// The admin console's entry (bundled by esbuild into /console/app.js): sign-in with an API key or
// a JWT kept in sessionStorage only, the session's role from GET /console/session, and the views
// by URL fragment (#snapshots, #reconciliation, #webhooks, #audit, #access). The API enforces
// every role; the navigation only leaves out the views a role cannot use.
import { type Api, ApiError, createApi, explain, type Session } from './api.ts'
import { type DomDocument, type DomElement, type DomField, makeUi } from './dom.ts'
import type { View, ViewContext } from './view.ts'
import { accessView } from './views/access.ts'
import { auditView } from './views/audit.ts'
import { reconciliationView } from './views/reconciliation.ts'
import { snapshotsView } from './views/snapshots.ts'
import { webhooksView } from './views/webhooks.ts'

/** The browser globals the console uses (the repository's tsconfig has no DOM lib). */
interface BrowserWindow {
  document: DomDocument & { getElementById(id: string): DomElement | null; body: DomElement; title: string }
  sessionStorage: {
    getItem(k: string): string | null
    setItem(k: string, v: string): void
    removeItem(k: string): void
  }
  location: { hash: string; href: string }
  addEventListener(type: string, fn: () => void): void
  fetch: typeof fetch
  setTimeout(fn: () => void, ms: number): unknown
}

const win = globalThis as unknown as BrowserWindow
const doc = win.document
const ui = makeUi(doc)
const { h } = ui
const STORAGE_KEY = 'cairn.console.credential'
/** The service's root: the console is at <root>console/. */
const BASE = new URL('../', win.location.href).toString()

interface Section {
  id: string
  title: string
  view: View
  roles: readonly Session['role'][]
}

const SECTIONS: readonly Section[] = [
  { id: 'snapshots', title: 'Snapshots', view: snapshotsView, roles: ['admin', 'auditor'] },
  { id: 'reconciliation', title: 'Reconciliation', view: reconciliationView, roles: ['admin', 'auditor'] },
  { id: 'webhooks', title: 'Webhooks', view: webhooksView, roles: ['admin'] },
  { id: 'audit', title: 'Audit log', view: auditView, roles: ['admin', 'auditor'] },
  { id: 'access', title: 'Users & keys', view: accessView, roles: ['admin', 'auditor', 'user'] },
]

const app = doc.getElementById('app') as DomElement
/** Bumped at each route: a view whose generation has passed stops rendering and polling. */
let generation = 0
/** Renders the view the URL fragment names (set once signed in). */
let onRoute: (() => void) | null = null

function signIn(message: string | null): void {
  const field = h('input', {
    id: 'credential',
    name: 'credential',
    type: 'password',
    autocomplete: 'off',
    required: true,
    'aria-describedby': 'credential-help',
  }) as DomField
  const form = h(
    'form',
    { id: 'sign-in', 'aria-labelledby': 'sign-in-title' },
    h('h2', { id: 'sign-in-title' }, 'Sign in'),
    h('label', { for: 'credential' }, 'API key or JWT'),
    field,
    h(
      'p',
      { id: 'credential-help', class: 'note' },
      'Sent as Authorization: Bearer with every request of this tab; kept in this tab’s session storage only.',
    ),
    h('button', { type: 'submit' }, 'Sign in'),
    message ? h('p', { class: 'alert', role: 'alert', id: 'sign-in-error' }, message) : null,
  )
  form.addEventListener('submit', (ev) => {
    ev.preventDefault()
    const credential = field.value.trim()
    if (!credential) return
    win.sessionStorage.setItem(STORAGE_KEY, credential)
    void start(credential)
  })
  ui.fill(app, form)
  field.focus()
}

function signOut(): void {
  onRoute = null
  generation++
  win.sessionStorage.removeItem(STORAGE_KEY)
  win.location.hash = ''
  signIn(null)
}

async function start(credential: string): Promise<void> {
  const raw = createApi(BASE, credential, (url, init) => win.fetch(url, init))
  // a credential refused later (an expired JWT, a key removed from the config): back to sign-in
  const expired = (err: unknown): never => {
    if (err instanceof ApiError && err.status === 401 && onRoute !== null) {
      onRoute = null
      generation++
      win.sessionStorage.removeItem(STORAGE_KEY)
      signIn(`Unauthorized: ${err.message} — sign in again`)
    }
    throw err
  }
  const api: Api = {
    get: <T>(path: string) => raw.get<T>(path).catch(expired),
    post: <T>(path: string, body?: unknown) => raw.post<T>(path, body).catch(expired),
  }
  let me: Session
  try {
    me = await api.get<Session>('console/session')
  } catch (err) {
    // a refused credential is forgotten at once; nothing else is shown
    win.sessionStorage.removeItem(STORAGE_KEY)
    signIn(err instanceof ApiError && err.status === 401 ? `Unauthorized: ${err.message}` : explain(err))
    return
  }
  const allowed = SECTIONS.filter((s) => s.roles.includes(me.role))
  const main = h('main', { id: 'view', tabindex: '-1' })
  const nav = h(
    'nav',
    { 'aria-label': 'Console sections' },
    h(
      'ul',
      null,
      allowed.map((s) => h('li', null, h('a', { href: `#${s.id}`, id: `nav-${s.id}` }, s.title))),
    ),
  )
  const bar = h(
    'div',
    { class: 'who' },
    h('span', { id: 'who' }, `${me.sub} (${me.role})`),
    h('button', { type: 'button', id: 'sign-out', onclick: signOut }, 'Sign out'),
  )
  ui.fill(
    app,
    bar,
    nav,
    me.role === 'user'
      ? h('p', { class: 'note' }, 'This console is for the admin and auditor roles; your proof is on the page at /.')
      : null,
    main,
  )

  const route = () => {
    const id = win.location.hash.replace(/^#/, '') || (allowed[0]?.id ?? 'access')
    // a view the role does not list is still asked of the API: its refusal is what the page shows
    const section = SECTIONS.find((s) => s.id === id) ?? allowed[0]!
    const mine = ++generation
    for (const s of allowed) {
      const link = nav.querySelector(`#nav-${s.id}`)
      if (s.id === section.id) link?.setAttribute('aria-current', 'page')
      else link?.removeAttribute('aria-current')
    }
    doc.title = `${section.title} — Cairn reserves console`
    const ctx: ViewContext = {
      api,
      me,
      ui,
      current: () => mine === generation,
      refresh: () => {
        if (mine === generation) route()
      },
      download: (name, type, text) => {
        const url = URL.createObjectURL(new Blob([text], { type }))
        const a = h('a', { href: url, download: name, hidden: true })
        doc.body.appendChild(a)
        a.click()
        a.remove()
        win.setTimeout(() => URL.revokeObjectURL(url), 10_000)
      },
    }
    void section.view(ctx, main).then(() => {
      if (mine !== generation) return
      // move focus to the view's heading so keyboard and screen-reader users land on it
      main.querySelector('h2')?.focus()
    })
  }
  onRoute = route
  route()
}

win.addEventListener('hashchange', () => onRoute?.())

const saved = win.sessionStorage.getItem(STORAGE_KEY)
if (saved) void start(saved)
else signIn(null)
