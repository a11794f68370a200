import type {
  Anchor,
  LeafPage,
  NextAccepted,
  NextSnapshot,
  Operations,
  Proof,
  ProofBatch,
  PublicAnchor,
  Snapshot,
  SnapshotAccepted,
  SnapshotPage,
  SnapshotUpload,
} from './api-types.ts'
import { ReservesApiError, SdkErrorCode } from './errors.ts'
import { type VerifyResult, verifyProof } from './verifier.ts'

/** An operation of the API by `METHOD /path`, as the OpenAPI document names it. */
export type OperationKey = keyof Operations
type Has<T> = [T] extends [never] ? false : true
/** What an operation takes: its path parameters, query and JSON body, each only where it has them. */
export type OperationInput<K extends OperationKey> = (Has<Operations[K]['path']> extends true
  ? { path: Operations[K]['path'] }
  : { path?: undefined }) &
  (Has<Operations[K]['query']> extends true ? { query?: Operations[K]['query'] } : { query?: undefined }) &
  (Has<Operations[K]['body']> extends true ? { body: Operations[K]['body'] } : { body?: undefined })
/** What an operation answers (its 200/201/202 JSON body). */
export type OperationResult<K extends OperationKey> = Operations[K]['response']

/** A route the service marked deprecated (`Deprecation`, RFC 9745; `Sunset`, RFC 8594). */
export interface DeprecationNotice {
  /** `METHOD /path` of the request. */
  operation: string
  /** The `Deprecation` header: `@<unix seconds>` since when (RFC 9745). */
  deprecation: string
  /** The `Sunset` header: the HTTP date after which the route may answer 410. */
  sunset: string | undefined
  /** The `Link` header (`rel="deprecation"` / `rel="successor-version"`): where to read about it. */
  link: string | undefined
}

export interface ReservesClientOptions {
  /** The service, e.g. `https://reserves.example.com` (the SDK adds `/v1/…`). */
  baseUrl: string
  /** A bearer token (JWT), or a function giving the current one (called per request: refresh there). */
  token?: string | (() => string | Promise<string>)
  /** An API key (`X-Api-Key`), for service-to-service calls. */
  apiKey?: string
  /** The fetch to use (default: the global one — browsers, workers, Node ≥ 18). */
  fetch?: typeof fetch
  /** Give up on a request after this long (default 30 s; 0: never). */
  timeoutMs?: number
  /** Told once per operation when the service marks it deprecated (default: `console.warn` once). */
  onDeprecated?: (notice: DeprecationNotice) => void
  /** Waits between polls of {@link ReservesClient.waitForSnapshot} (tests inject one). */
  sleep?: (ms: number) => Promise<void>
  /** Milliseconds of a monotonic clock (tests inject one; default `performance.now`). */
  now?: () => number
}

/** Where {@link ReservesClient.verifyMyProof} took the root the proof had to fold to. */
export type RootSource = 'given' | 'anchor' | 'snapshot'

export interface VerifiedProof {
  proof: Proof
  result: VerifyResult
  /** `given`: the caller's (best: published elsewhere); `anchor`: the public anchor; `snapshot`: the service's snapshot. */
  rootSource: RootSource
}

const JSON_TYPE = 'application/json'

/**
 * The reserves API (v1) for one principal: typed after the service's OpenAPI document
 * (`src/api-types.ts`, generated), errors as {@link ReservesApiError} with the service's code and
 * status. Uses only `fetch`: the same code runs in browsers, workers and Node.
 *
 * @example
 * const client = new ReservesClient({ baseUrl: 'https://reserves.example.com', token })
 * const { result } = await client.verifyMyProof('2025-06-30')
 * console.log(result.ok ? 'included' : `NOT verified: ${result.reason}`)
 */
export class ReservesClient {
  private readonly fetchFn: typeof fetch
  private readonly warned = new Set<string>()

  constructor(readonly opts: ReservesClientOptions) {
    this.fetchFn = opts.fetch ?? ((input, init) => globalThis.fetch(input, init))
  }

  /**
   * Calls any operation of the document by its `METHOD /path` key, typed from it.
   *
   * @example
   * const snap = await client.call('GET /v1/snapshots/{id}', { path: { id: 'd1' } })
   */
  async call<K extends OperationKey>(key: K, input: OperationInput<K>): Promise<OperationResult<K>> {
    const space = key.indexOf(' ')
    const method = key.slice(0, space)
    const template = key.slice(space + 1)
    const params = (input.path ?? {}) as Record<string, string>
    const path = template.replace(/\{([^}]+)\}/g, (_, name: string) => encodeURIComponent(String(params[name] ?? '')))
    const body = input.body === undefined ? undefined : { text: JSON.stringify(input.body), type: JSON_TYPE }
    return (await this.send(method, path, key, input.query as Record<string, unknown> | undefined, body)) as never
  }

  // --- snapshots ---------------------------------------------------------------------------------

  /** Snapshots, newest first; pass `next` as `cursor` for the next page. Admin, auditor, user. */
  listSnapshots(query: { cursor?: string; limit?: number } = {}): Promise<SnapshotPage> {
    return this.call('GET /v1/snapshots', { query })
  }

  /** A snapshot: status, hash, currencies, root, anchor (staff also see depth, minDepth, userCount). */
  getSnapshot(id: string): Promise<Snapshot> {
    return this.call('GET /v1/snapshots/{id}', { path: { id } })
  }

  /**
   * Polls a snapshot until it is built (answered) or failed (`SDK_SNAPSHOT_FAILED`); `SDK_TIMEOUT`
   * past `timeoutMs` (default 60 s).
   */
  async waitForSnapshot(id: string, o: { timeoutMs?: number; intervalMs?: number } = {}): Promise<Snapshot> {
    const now = this.opts.now ?? (() => performance.now())
    const sleep = this.opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)))
    const deadline = now() + (o.timeoutMs ?? 60_000)
    for (;;) {
      const s = await this.getSnapshot(id)
      if (s.status === 'built') return s
      if (s.status === 'failed')
        throw new ReservesApiError(SdkErrorCode.SNAPSHOT_FAILED, 200, `snapshot ${id} failed: ${s.error ?? '?'}`)
      if (now() >= deadline)
        throw new ReservesApiError(SdkErrorCode.TIMEOUT, 0, `snapshot ${id} is still ${s.status}`, {
          hint: 'GET /v1/builds/:id shows its build job',
        })
      await sleep(o.intervalMs ?? 250)
    }
  }

  /** Admin: a snapshot as JSON (up to 16 MiB); it builds in the background (`waitForSnapshot`). */
  uploadSnapshot(snapshot: SnapshotUpload): Promise<SnapshotAccepted> {
    return this.call('POST /v1/snapshots', { body: snapshot })
  }

  /**
   * Admin: the next snapshot of a chain, built incrementally from snapshot `base` and the balances
   * that changed (`{userId, balances}` sets, `{userId, remove: true}` removes); `waitForSnapshot`.
   */
  nextSnapshot(base: string, body: NextSnapshot): Promise<NextAccepted> {
    return this.call('POST /v1/snapshots/{id}/next', { path: { id: base }, body })
  }

  /**
   * Admin: a snapshot as CSV (header `userId,SYM…`) or NDJSON, streamed by the service line by line
   * (for large snapshots). `currencies` like `BTC:8,ETH:18`.
   */
  async uploadSnapshotText(
    text: string,
    query: Operations['POST /v1/snapshots']['query'] = {},
    format: 'csv' | 'ndjson' = 'csv',
  ): Promise<SnapshotAccepted> {
    const type = format === 'csv' ? 'text/csv' : 'application/x-ndjson'
    return (await this.send('POST', '/v1/snapshots', 'POST /v1/snapshots', query, { text, type })) as SnapshotAccepted
  }

  /** Anyone: the anchored root, totals and anchor (404 `RESERVES_SNAPSHOT_UNKNOWN` before anchoring). */
  getPublicAnchor(id: string): Promise<PublicAnchor> {
    return this.call('GET /v1/snapshots/{id}/anchor', { path: { id } })
  }

  /** Admin: records where the root was anchored. */
  setAnchor(id: string, anchor: Anchor): Promise<Snapshot> {
    return this.call('PUT /v1/snapshots/{id}/anchor', { path: { id }, body: anchor })
  }

  /** Auditor, admin: leaf hashes and sums (no user ids), `offset`…`offset + limit − 1`. */
  getLeaves(id: string, query: { offset?: number; limit?: number } = {}): Promise<LeafPage> {
    return this.call('GET /v1/snapshots/{id}/leaves', { path: { id }, query })
  }

  // --- proofs ------------------------------------------------------------------------------------

  /** User: their own inclusion proof. */
  getMyProof(id: string): Promise<Proof> {
    return this.call('GET /v1/snapshots/{id}/proof', { path: { id } })
  }

  /** Admin, auditor: any user's proof (recorded in the audit log). */
  getUserProof(id: string, userId: string): Promise<Proof> {
    return this.call('GET /v1/snapshots/{id}/proofs/{userId}', { path: { id, userId } })
  }

  /** Admin, auditor: up to 1,000 proofs; unknown users are listed in `missing`. */
  getProofs(id: string, userIds: string[]): Promise<ProofBatch> {
    return this.call('POST /v1/snapshots/{id}/proofs/batch', { path: { id }, body: { userIds } })
  }

  /**
   * User: fetches their proof and verifies it here (the service is not trusted with the verdict).
   * The root it must fold to is `expectedRoot` when given — one published elsewhere, the strongest
   * check — else the snapshot's public anchor when it has one, else the root the service shows.
   */
  async verifyMyProof(id: string, o: { expectedRoot?: string } = {}): Promise<VerifiedProof> {
    const proof = await this.getMyProof(id)
    let expectedRoot = o.expectedRoot
    let rootSource: RootSource = 'given'
    if (expectedRoot === undefined) {
      const snap = await this.getSnapshot(id)
      if (snap.anchor) {
        expectedRoot = (await this.getPublicAnchor(id)).root.hash
        rootSource = 'anchor'
      } else if (snap.root) {
        expectedRoot = snap.root.hash
        rootSource = 'snapshot'
      }
    }
    const result = verifyProof(proof, expectedRoot === undefined ? {} : { expectedRoot })
    return { proof, result, rootSource }
  }

  // --- transport ---------------------------------------------------------------------------------

  private async send(
    method: string,
    path: string,
    operation: string,
    query: Record<string, unknown> | undefined,
    body: { text: string; type: string } | undefined,
  ): Promise<unknown> {
    const url = new URL(path, this.opts.baseUrl.endsWith('/') ? this.opts.baseUrl : `${this.opts.baseUrl}/`)
    for (const [k, v] of Object.entries(query ?? {}))
      if (v !== undefined && v !== null) url.searchParams.set(k, String(v))
    const headers: Record<string, string> = { accept: JSON_TYPE }
    const token = typeof this.opts.token === 'function' ? await this.opts.token() : this.opts.token
    if (token) headers.authorization = `Bearer ${token}`
    if (this.opts.apiKey) headers['x-api-key'] = this.opts.apiKey
    if (body) headers['content-type'] = body.type
    const timeoutMs = this.opts.timeoutMs ?? 30_000
    let res: Response
    try {
      res = await this.fetchFn(url, {
        method,
        headers,
        ...(body ? { body: body.text } : {}),
        ...(timeoutMs > 0 ? { signal: AbortSignal.timeout(timeoutMs) } : {}),
      })
    } catch (err) {
      throw new ReservesApiError(SdkErrorCode.NETWORK, 0, `${method} ${url.pathname}: ${(err as Error).message}`, {
        cause: err,
        hint: 'the service did not answer: check the URL, or retry later',
      })
    }
    this.noteDeprecation(operation, res.headers)
    const requestId = res.headers.get('x-request-id') ?? undefined
    const text = await res.text()
    let json: unknown
    try {
      json = text === '' ? undefined : JSON.parse(text)
    } catch {
      json = undefined
    }
    if (!res.ok) {
      const e = json as { code?: unknown; message?: unknown; hint?: unknown } | undefined
      if (e && typeof e.code === 'string')
        throw new ReservesApiError(e.code, res.status, String(e.message ?? ''), {
          ...(typeof e.hint === 'string' ? { hint: e.hint } : {}),
          body: json as never,
          ...(requestId ? { requestId } : {}),
        })
      throw new ReservesApiError(SdkErrorCode.BAD_RESPONSE, res.status, `${res.status} ${text.slice(0, 200)}`, {
        ...(requestId ? { requestId } : {}),
      })
    }
    if (json === undefined)
      throw new ReservesApiError(SdkErrorCode.BAD_RESPONSE, res.status, `${method} ${url.pathname}: not JSON`)
    return json
  }

  private noteDeprecation(operation: string, headers: Headers): void {
    const deprecation = headers.get('deprecation')
    if (!deprecation || this.warned.has(operation)) return
    this.warned.add(operation)
    const notice: DeprecationNotice = {
      operation,
      deprecation,
      sunset: headers.get('sunset') ?? undefined,
      link: headers.get('link') ?? undefined,
    }
    if (this.opts.onDeprecated) this.opts.onDeprecated(notice)
    else
      console.warn(
        `cairn reserves: ${operation} is deprecated (${deprecation})${notice.sunset ? `, sunset ${notice.sunset}` : ''}`,
      )
  }
}
