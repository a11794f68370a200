// Webhooks (admin): the endpoints, the deliveries of one, the dead letters of all, and redelivery
// (POST …/deliveries/:eventId/redeliver, …/redeliver-dead). Secrets are never shown: the API
// returns them only when an endpoint is made or its secret rotated.
import type { DeliveryInfo } from '../../../webhooks/deliveries.ts'
import type { WebhookEndpoint } from '../../../webhooks/endpoints.ts'
import type { DomElement } from '../dom.ts'
import { formatTime } from '../format.ts'
import { actionButton, alertBox, badge, table, type ViewContext } from '../view.ts'

export async function webhooksView(ctx: ViewContext, root: DomElement, selected: string | null = null): Promise<void> {
  const { api, ui } = ctx
  const { h } = ui
  const heading = () => h('h2', { tabindex: '-1' }, 'Webhooks')
  const status = h('div', { 'aria-live': 'polite' })
  ui.fill(root, heading(), h('p', { class: 'busy' }, 'Loading…'))
  let hooks: WebhookEndpoint[]
  let dead: DeliveryInfo[]
  let deliveries: DeliveryInfo[] = []
  try {
    hooks = (await api.get<{ webhooks: WebhookEndpoint[] }>('v1/webhooks')).webhooks
    dead = (await api.get<{ deliveries: DeliveryInfo[] }>('v1/webhooks/dead-letters?limit=100')).deliveries
    const chosen = selected ?? hooks[0]?.id ?? null
    selected = chosen
    if (chosen)
      deliveries = (
        await api.get<{ deliveries: DeliveryInfo[] }>(`v1/webhooks/${encodeURIComponent(chosen)}/deliveries?limit=50`)
      ).deliveries
  } catch (err) {
    if (ctx.current()) ui.fill(root, heading(), alertBox(ui, err))
    return
  }
  if (!ctx.current()) return
  const redeliver = (d: DeliveryInfo) =>
    actionButton(
      ui,
      'Redeliver',
      async () => {
        await api.post(
          `v1/webhooks/${encodeURIComponent(d.webhookId)}/deliveries/${encodeURIComponent(d.eventId)}/redeliver`,
        )
        await webhooksView(ctx, root, selected)
      },
      status,
      { 'aria-label': `Redeliver event ${d.eventId}` },
    )
  const deliveryRows = (list: DeliveryInfo[], withHook: boolean) =>
    list.map((d) => ({
      class: `delivery s-${d.state}`,
      cells: [
        d.eventId,
        d.eventType,
        withHook ? d.webhookId : null,
        badge(ui, d.state),
        String(d.attempts),
        d.lastStatus === null ? '—' : String(d.lastStatus),
        d.lastError ?? '',
        formatTime(d.deliveredAt ?? d.nextAt ?? d.updatedAt),
        d.state === 'pending' ? '' : redeliver(d),
      ].filter((c) => c !== null),
    }))
  const deliveryHead = (withHook: boolean) => [
    'event',
    'type',
    ...(withHook ? ['endpoint'] : []),
    'state',
    'attempts',
    'last status',
    'last error',
    'when',
    '',
  ]

  ui.fill(
    root,
    heading(),
    status,
    table(
      ui,
      'Endpoints',
      ['id', 'url', 'events', 'description', 'enabled', 'created', ''],
      hooks.map((w) => ({
        class: w.id === selected ? 'selected' : '',
        cells: [
          w.id,
          h('span', { class: 'url' }, w.url),
          w.events.join(', '),
          w.description,
          w.enabled ? 'yes' : 'no',
          formatTime(w.createdAt),
          h(
            'button',
            {
              type: 'button',
              'aria-pressed': w.id === selected ? 'true' : 'false',
              'aria-label': `Show the deliveries of ${w.id}`,
              onclick: () => void webhooksView(ctx, root, w.id),
            },
            'Deliveries',
          ),
        ],
      })),
      'no endpoint is registered (POST /v1/webhooks).',
    ),
    selected
      ? h(
          'section',
          { 'aria-labelledby': 'wh-deliveries' },
          h('h3', { id: 'wh-deliveries' }, `Deliveries to ${selected}`),
          table(ui, 'Newest first', deliveryHead(false), deliveryRows(deliveries, false), 'none yet.'),
        )
      : null,
    h(
      'section',
      { 'aria-labelledby': 'wh-dead' },
      h('h3', { id: 'wh-dead' }, 'Dead letters'),
      dead.length > 0 && selected
        ? actionButton(
            ui,
            `Redeliver every dead letter of ${selected}`,
            async () => {
              await api.post(`v1/webhooks/${encodeURIComponent(selected!)}/redeliver-dead`)
              await webhooksView(ctx, root, selected)
            },
            status,
          )
        : null,
      table(ui, 'Deliveries that ran out of attempts', deliveryHead(true), deliveryRows(dead, true), 'none.'),
    ),
  )
}
