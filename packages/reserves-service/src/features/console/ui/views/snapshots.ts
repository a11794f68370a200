// Snapshots: status, users, root and anchor of each (GET /v1/snapshots, newest first, paged);
// for admins the build queue beside them (GET /v1/builds: state, attempts, progress, last error)
// with cancel and retry. Refreshes itself while a snapshot is building.
import type { BuildJobInfo } from '../../../../jobs/jobs.ts'
import type { SnapshotInfo } from '../../../../kernel/store.ts'
import type { Child, DomElement } from '../dom.ts'
import { formatProgress, formatTime, formatUnits, shortHash } from '../format.ts'
import { actionButton, alertBox, badge, isAdmin, table, type ViewContext } from '../view.ts'

const PAGE = 25
const POLL_MS = 1500

export async function snapshotsView(ctx: ViewContext, root: DomElement, cursor: string | null = null): Promise<void> {
  const { api, me, ui } = ctx
  const { h } = ui
  const status = h('div', { 'aria-live': 'polite' })
  ui.fill(root, h('h2', { tabindex: '-1' }, 'Snapshots'), status, h('p', { class: 'busy' }, 'Loading…'))
  let page: { items: SnapshotInfo[]; next: string | null }
  let builds = new Map<string, BuildJobInfo>()
  try {
    page = await api.get(`v1/snapshots?limit=${PAGE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)
    if (isAdmin(me)) {
      const b = await api.get<{ builds: BuildJobInfo[] }>('v1/builds?limit=1000')
      builds = new Map(b.builds.map((j) => [j.snapshotId, j]))
    }
  } catch (err) {
    if (ctx.current()) ui.fill(root, h('h2', { tabindex: '-1' }, 'Snapshots'), alertBox(ui, err))
    return
  }
  if (!ctx.current()) return

  const buildCell = (s: SnapshotInfo): Child => {
    const j = builds.get(s.id)
    if (!isAdmin(me)) return s.status === 'building' ? 'building' : '—'
    if (!j) return s.status === 'built' ? 'done' : '—'
    const actions: Child[] = []
    if (j.state === 'queued' || j.state === 'running')
      actions.push(
        actionButton(
          ui,
          'Cancel',
          async () => {
            await api.post(`v1/builds/${encodeURIComponent(s.id)}/cancel`)
            ctx.refresh()
          },
          status,
          { 'aria-label': `Cancel the build of ${s.id}` },
        ),
      )
    if (j.state === 'failed' || j.state === 'cancelled')
      actions.push(
        actionButton(
          ui,
          'Retry',
          async () => {
            await api.post(`v1/builds/${encodeURIComponent(s.id)}/retry`)
            ctx.refresh()
          },
          status,
          { 'aria-label': `Retry the build of ${s.id}` },
        ),
      )
    return h(
      'div',
      { class: 'build' },
      badge(ui, j.stale ? 'stale' : j.state),
      ` attempt ${j.attempts}/${j.maxAttempts}`,
      j.state === 'running' ? h('div', null, formatProgress(j.progress, s.userCount)) : null,
      j.lastError ? h('div', { class: 'error-text' }, j.lastError) : null,
      actions,
    )
  }
  const anchorCell = (s: SnapshotInfo): Child => {
    const a = s.anchor as { chainId?: number; blockNumber?: number; txHash?: string; registry?: string } | null
    if (!a) return s.status === 'built' ? 'not anchored' : '—'
    return h(
      'div',
      { class: 'anchor' },
      `chain ${a.chainId ?? '?'}, block ${a.blockNumber ?? '?'}`,
      h('div', { class: 'hash', title: a.txHash ?? '' }, `tx ${shortHash(a.txHash)}`),
      a.registry ? h('div', { class: 'hash', title: a.registry }, `registry ${shortHash(a.registry)}`) : null,
    )
  }
  const totals = (s: SnapshotInfo): Child =>
    s.root
      ? h(
          'ul',
          { class: 'totals' },
          s.currencies.map((c, i) =>
            h('li', null, `${c.symbol} ${formatUnits(s.root!.balances[i] ?? '0', c.decimals)}`),
          ),
        )
      : s.currencies.map((c) => c.symbol).join(', ')

  const rows = page.items.map((s) => ({
    class: `snapshot s-${s.status}`,
    cells: [
      h('span', { class: 'id' }, s.id),
      h('div', null, badge(ui, s.status), s.error ? h('div', { class: 'error-text' }, s.error) : null),
      String(s.userCount ?? '—'),
      totals(s),
      h('span', { class: 'hash', title: s.root?.hash ?? '' }, shortHash(s.root?.hash)),
      anchorCell(s),
      buildCell(s),
      h('div', null, formatTime(s.createdAt), s.builtAt ? h('div', null, `built ${formatTime(s.builtAt)}`) : null),
    ],
  }))
  const next = page.next
  ui.fill(
    root,
    h('h2', { tabindex: '-1' }, 'Snapshots'),
    isAdmin(me) ? null : h('p', { class: 'note' }, 'Build controls need the admin role.'),
    status,
    table(
      ui,
      'Snapshots, newest first',
      ['id', 'status', 'users', 'totals', 'root', 'anchor', 'build', 'created'],
      rows,
      'no snapshot has been uploaded yet (POST /v1/snapshots).',
    ),
    h(
      'div',
      { class: 'pager' },
      cursor ? h('button', { type: 'button', onclick: () => void snapshotsView(ctx, root, null) }, 'Newest') : null,
      next ? h('button', { type: 'button', onclick: () => void snapshotsView(ctx, root, next) }, 'Older') : null,
    ),
  )
  if (page.items.some((s) => s.status === 'building'))
    setTimeout(() => {
      if (ctx.current()) void snapshotsView(ctx, root, cursor)
    }, POLL_MS)
}
