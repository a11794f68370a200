// Users, roles and keys: who is signed in (GET /console/session), what each role may do, and where
// credentials are managed. The service has no route that lists or changes API keys: they live in
// the file given to --api-keys-file, and tokens are minted outside the service.
import type { DomElement } from '../dom.ts'
import { table, type ViewContext } from '../view.ts'

const ROLES: readonly (readonly [string, string])[] = [
  [
    'admin',
    'uploads snapshots, cancels and retries builds, anchors, manages webhooks and asset sources, reads everything',
  ],
  ['auditor', 'reads snapshots, proofs of any user, leaves, reconciliations, asset sources and the audit log'],
  ['user', 'reads the snapshots and their own proof only (the page at /)'],
]

export async function accessView(ctx: ViewContext, root: DomElement): Promise<void> {
  const { me, ui } = ctx
  const { h } = ui
  ui.fill(
    root,
    h('h2', { tabindex: '-1' }, 'Users, roles and API keys'),
    h(
      'section',
      { 'aria-labelledby': 'acc-me' },
      h('h3', { id: 'acc-me' }, 'Signed in'),
      h(
        'dl',
        { class: 'me' },
        h('dt', null, 'subject'),
        h('dd', { id: 'me-sub' }, me.sub),
        h('dt', null, 'role'),
        h('dd', { id: 'me-role' }, me.role),
        h('dt', null, 'credential'),
        h('dd', null, me.via === 'api-key' ? 'API key' : 'JWT'),
      ),
    ),
    h(
      'section',
      { 'aria-labelledby': 'acc-roles' },
      h('h3', { id: 'acc-roles' }, 'Roles'),
      table(
        ui,
        'What each role may do (the API enforces it; the console only hides what a role cannot use)',
        ['role', 'may'],
        ROLES.map(([r, what]) => ({ class: r === me.role ? 'selected' : '', cells: [r, what] })),
      ),
    ),
    h(
      'section',
      { 'aria-labelledby': 'acc-keys', class: 'panel', id: 'keys-config' },
      h('h3', { id: 'acc-keys' }, 'API keys and tokens: managed in config'),
      h(
        'p',
        null,
        'The service has no API that lists or changes credentials, so this console cannot show or edit them.',
      ),
      h(
        'ul',
        null,
        h(
          'li',
          null,
          'API keys: managed in config: ',
          h('code', null, '--api-keys-file'),
          ' (JSON ',
          h('code', null, '[{"name","role","key"}]'),
          ', keys of at least 16 characters; the name is the subject). Changed by editing the file and restarting.',
        ),
        h(
          'li',
          null,
          'HS256 tokens: managed in config: ',
          h('code', null, '--jwt-secret-file'),
          '; minted with ',
          h('code', null, 'cairn reserves token --role R --sub S --secret-file …'),
          '.',
        ),
        h(
          'li',
          null,
          'OAuth2/OIDC tokens: managed in config: ',
          h('code', null, '--jwks-url'),
          ', ',
          h('code', null, '--jwt-issuer'),
          ', ',
          h('code', null, '--jwt-audience'),
          ', ',
          h('code', null, '--jwt-role-claim'),
          '; users and roles are the provider’s.',
        ),
      ),
    ),
  )
}
