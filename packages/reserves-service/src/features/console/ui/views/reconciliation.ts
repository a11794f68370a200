// Reconciliation: the newest finished run's reserve ratio per currency (a shortfall marked in
// words and colour), the runs (GET /v1/reconciliations) and the declared asset sources; admins
// may ask for a run now (POST /v1/reconciliations).
import type { ReconciliationRun } from '../../../reconciliation/runs.ts'
import type { AssetSource } from '../../../reconciliation/sources.ts'
import type { DomElement } from '../dom.ts'
import { formatRatio, formatTime, formatUnits } from '../format.ts'
import { actionButton, alertBox, badge, isAdmin, table, type ViewContext } from '../view.ts'

export async function reconciliationView(ctx: ViewContext, root: DomElement): Promise<void> {
  const { api, me, ui } = ctx
  const { h } = ui
  const heading = () => h('h2', { tabindex: '-1' }, 'Reconciliation')
  const status = h('div', { 'aria-live': 'polite' })
  ui.fill(root, heading(), h('p', { class: 'busy' }, 'Loading…'))
  let runs: ReconciliationRun[]
  let sources: AssetSource[]
  try {
    runs = (await api.get<{ reconciliations: ReconciliationRun[] }>('v1/reconciliations?limit=50')).reconciliations
    sources = (await api.get<{ sources: AssetSource[] }>('v1/reconciliation/sources')).sources
  } catch (err) {
    if (ctx.current()) ui.fill(root, heading(), alertBox(ui, err))
    return
  }
  if (!ctx.current()) return
  const latest = runs.find((r) => r.result !== null) ?? null
  const summary = latest?.result
    ? h(
        'section',
        { 'aria-labelledby': 'rec-latest' },
        h(
          'h3',
          { id: 'rec-latest' },
          `Reserve ratio of snapshot ${latest.snapshotId} (run ${latest.id}, ${formatTime(latest.finishedAt)})`,
        ),
        h(
          'p',
          { class: latest.result.status === 'shortfall' ? 'alert' : 'ok' },
          latest.result.status === 'shortfall'
            ? '⚠ Shortfall: assets do not cover liabilities in at least one currency.'
            : '✓ Assets cover liabilities in every currency.',
        ),
        table(
          ui,
          'Per currency',
          ['currency', 'liabilities', 'assets', 'surplus', 'reserve ratio', 'status'],
          latest.result.currencies.map((c) => ({
            class: c.status === 'shortfall' ? 'shortfall' : 'covered',
            cells: [
              c.symbol,
              formatUnits(c.liabilities, c.decimals),
              formatUnits(c.assets, c.decimals),
              formatUnits(c.surplus, c.decimals),
              formatRatio(c.ratio),
              c.status === 'shortfall' ? h('strong', null, '⚠ shortfall') : 'ok',
            ],
          })),
        ),
        latest.result.unmatched.length > 0
          ? h(
              'p',
              { class: 'note' },
              `Sources not counted (currency not in the snapshot): ${latest.result.unmatched.join(', ')}`,
            )
          : null,
      )
    : h('p', { class: 'empty' }, 'No reconciliation has finished yet.')

  ui.fill(
    root,
    heading(),
    status,
    isAdmin(me)
      ? actionButton(
          ui,
          'Reconcile the newest snapshot now',
          async () => {
            await api.post('v1/reconciliations', {})
            ctx.refresh()
          },
          status,
        )
      : null,
    summary,
    h('h3', null, 'Runs'),
    table(
      ui,
      'Reconciliation runs, newest first',
      ['id', 'snapshot', 'trigger', 'state', 'created', 'finished', 'error'],
      runs.map((r) => [
        r.id,
        r.snapshotId,
        r.trigger,
        badge(ui, r.state),
        formatTime(r.createdAt),
        formatTime(r.finishedAt),
        r.error ?? '',
      ]),
      'none yet.',
    ),
    h('h3', null, 'Asset sources'),
    table(
      ui,
      'Declared asset sources',
      ['id', 'kind', 'currency', 'label', 'where', 'enabled'],
      sources.map((s) => [
        s.id,
        s.kind,
        s.currency,
        s.label,
        s.kind === 'onchain'
          ? `chain ${s.chainId ?? '?'} ${s.address ?? ''} via ${s.rpc ?? '?'}`
          : `${s.amount ?? '?'} attested by ${s.attestedBy ?? '?'}`,
        s.enabled ? 'yes' : 'no',
      ]),
      'none declared (POST /v1/reconciliation/sources).',
    ),
  )
  if (runs.some((r) => r.state === 'queued' || r.state === 'running'))
    setTimeout(() => {
      if (ctx.current()) void reconciliationView(ctx, root)
    }, 1500)
}
