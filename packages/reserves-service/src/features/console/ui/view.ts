// What every console view gets (the API, who is signed in, the markup builder) and the pieces
// they share: tables, status badges, error and busy messages.
import { type Api, explain, type Session } from './api.ts'
import type { Child, DomElement, DomField, Ui } from './dom.ts'

export interface ViewContext {
  api: Api
  me: Session
  ui: Ui
  /** False once the operator has left the view (stops its polling and late renders). */
  current(): boolean
  /** Renders the view again. */
  refresh(): void
  /** Saves `text` as a file in the browser. */
  download(name: string, type: string, text: string): void
}

export type View = (ctx: ViewContext, root: DomElement) => Promise<void>

export const isAdmin = (me: Session) => me.role === 'admin'

/** A table with a caption, column headers (scope=col) and rows of cells; `empty` when there are none. */
export function table(
  ui: Ui,
  caption: string,
  head: readonly string[],
  rows: readonly (readonly Child[] | { cells: readonly Child[]; class: string })[],
  empty = 'None.',
): DomElement {
  const { h } = ui
  if (rows.length === 0) return h('p', { class: 'empty' }, `${caption}: ${empty}`)
  return h(
    'table',
    null,
    h('caption', null, caption),
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        head.map((c) => h('th', { scope: 'col' }, c)),
      ),
    ),
    h(
      'tbody',
      null,
      rows.map((r) =>
        'cells' in r
          ? h(
              'tr',
              { class: r.class },
              r.cells.map((c) => h('td', null, c)),
            )
          : h(
              'tr',
              null,
              (r as readonly Child[]).map((c) => h('td', null, c)),
            ),
      ),
    ),
  )
}

/** A status word with a class for its colour (the word itself carries the meaning). */
export function badge(ui: Ui, status: string): DomElement {
  return ui.h('span', { class: `badge s-${status.replace(/[^a-z_-]/gi, '')}` }, status)
}

/** An error message, announced to screen readers. */
export function alertBox(ui: Ui, err: unknown): DomElement {
  return ui.h('p', { class: 'alert', role: 'alert' }, explain(err))
}

/** A button that runs `action`, disabled meanwhile; shows what went wrong in `status`. */
export function actionButton(
  ui: Ui,
  label: string,
  action: () => Promise<void>,
  status: DomElement,
  extra: Record<string, string> = {},
): DomElement {
  const b = ui.h('button', { type: 'button', ...extra }, label) as DomField
  b.addEventListener('click', () => {
    b.disabled = true
    ui.fill(status)
    action().then(
      () => {
        b.disabled = false
      },
      (err: unknown) => {
        b.disabled = false
        ui.fill(status, alertBox(ui, err))
      },
    )
  })
  return b
}
