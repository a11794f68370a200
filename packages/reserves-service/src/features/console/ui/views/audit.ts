// The audit log: the hash chain's verification (GET /v1/audit/verify), a search by actor, action
// and time, pages of the matches, and the matches exported as CSV or JSON. GET /v1/audit pages by
// sequence number, so the search reads the log in batches and filters here (scanAudit).
import type { AuditCheck, AuditEntry } from '../../../../kernel/audit.ts'
import {
  type AuditFilter,
  type AuditScan,
  auditCsv,
  auditJson,
  NO_FILTER,
  scanAudit,
  utcFromField,
} from '../audit-filter.ts'
import type { DomElement, DomField } from '../dom.ts'
import { formatTime, shortHash } from '../format.ts'
import { alertBox, table, type ViewContext } from '../view.ts'

const PAGE = 50

export async function auditView(ctx: ViewContext, root: DomElement): Promise<void> {
  const { api, ui } = ctx
  const read = (after: number, limit: number) =>
    api.get<{ entries: AuditEntry[] }>(`v1/audit?after=${after}&limit=${limit}`).then((r) => r.entries)
  const { h } = ui
  let filter: AuditFilter = NO_FILTER
  /** The sequence number each page starts after: [0] is the first page. */
  let starts: number[] = [0]
  const chain = h('p', { class: 'busy', 'aria-live': 'polite' }, 'Checking the hash chain…')
  const results = h('div', { 'aria-live': 'polite' })
  const status = h('div')
  const input = (id: string, type: string, placeholder = '') =>
    h('input', { id, name: id, type, placeholder, autocomplete: 'off' }) as DomField
  const inputs = {
    actor: input('audit-actor', 'text', 'ops'),
    action: input('audit-action', 'text', 'snapshot.'),
    from: input('audit-from', 'datetime-local'),
    to: input('audit-to', 'datetime-local'),
  }
  const field = (el: DomField, id: string, label: string) =>
    h('div', { class: 'field' }, h('label', { for: id }, label), el)
  const form = h(
    'form',
    { class: 'filters', role: 'search', 'aria-label': 'Search the audit log' },
    field(inputs.actor, 'audit-actor', 'Actor contains'),
    field(inputs.action, 'audit-action', 'Action contains'),
    field(inputs.from, 'audit-from', 'From (UTC)'),
    field(inputs.to, 'audit-to', 'To (UTC)'),
    h('button', { type: 'submit' }, 'Search'),
    h('button', { type: 'button', id: 'audit-csv', onclick: () => void exportAs('csv') }, 'Export CSV'),
    h('button', { type: 'button', id: 'audit-json', onclick: () => void exportAs('json') }, 'Export JSON'),
  )
  const readFilter = (): AuditFilter => ({
    actor: inputs.actor.value.trim(),
    action: inputs.action.value.trim(),
    from: utcFromField(inputs.from.value),
    to: utcFromField(inputs.to.value),
  })

  const showPage = async (index: number) => {
    ui.fill(results, h('p', { class: 'busy' }, 'Searching…'))
    let page: AuditScan
    try {
      page = await scanAudit(read, filter, starts[index]!, PAGE)
    } catch (err) {
      if (ctx.current()) ui.fill(results, alertBox(ui, err))
      return
    }
    if (!ctx.current()) return
    starts = starts.slice(0, index + 1)
    if (page.more) starts.push(page.last)
    ui.fill(
      results,
      h(
        'p',
        { class: 'count' },
        page.entries.length === 0
          ? 'No entry matches.'
          : `Page ${index + 1}: ${page.entries.length} matching ${page.entries.length === 1 ? 'entry' : 'entries'}, seq ${page.entries[0]!.seq} to ${page.entries[page.entries.length - 1]!.seq}`,
      ),
      table(
        ui,
        'Audit entries, oldest first',
        ['seq', 'at', 'actor', 'role', 'action', 'details', 'hash'],
        page.entries.map((e) => [
          String(e.seq),
          formatTime(e.at),
          e.actor,
          e.role,
          e.action,
          h('code', { class: 'details' }, JSON.stringify(e.details)),
          h('span', { class: 'hash', title: e.hash }, shortHash(e.hash)),
        ]),
        'none.',
      ),
      h(
        'div',
        { class: 'pager' },
        index > 0 ? h('button', { type: 'button', onclick: () => void showPage(index - 1) }, 'Previous page') : null,
        page.more ? h('button', { type: 'button', onclick: () => void showPage(index + 1) }, 'Next page') : null,
      ),
    )
  }
  const exportAs = async (format: 'csv' | 'json') => {
    ui.fill(status, h('p', { class: 'busy' }, `Exporting ${format.toUpperCase()}…`))
    try {
      filter = readFilter()
      const all = await scanAudit(read, filter, 0, null)
      const stamp = new Date().toISOString().replace(/[:.]/g, '-')
      if (format === 'csv') ctx.download(`audit-${stamp}.csv`, 'text/csv', auditCsv(all.entries))
      else ctx.download(`audit-${stamp}.json`, 'application/json', auditJson(all.entries, filter))
      ui.fill(status, h('p', { class: 'ok' }, `Exported ${all.entries.length} entries as ${format.toUpperCase()}.`))
    } catch (err) {
      ui.fill(status, alertBox(ui, err))
    }
  }
  form.addEventListener('submit', (ev) => {
    ev.preventDefault()
    try {
      filter = readFilter()
    } catch (err) {
      ui.fill(results, alertBox(ui, err))
      return
    }
    starts = [0]
    void showPage(0)
  })

  ui.fill(root, h('h2', { tabindex: '-1' }, 'Audit log'), chain, form, status, results)
  void api.get<AuditCheck>('v1/audit/verify').then(
    (c) => {
      if (!ctx.current()) return
      ui.fill(
        chain,
        c.ok
          ? h('span', { class: 'ok' }, `✓ Hash chain intact: ${c.count} entries, head ${shortHash(c.head)}`)
          : h('span', { class: 'alert', role: 'alert' }, `✗ Hash chain broken at entry ${c.seq}: ${c.reason}`),
      )
      chain.setAttribute('class', 'chain')
    },
    (err: unknown) => ctx.current() && ui.fill(chain, alertBox(ui, err)),
  )
  await showPage(0)
}
