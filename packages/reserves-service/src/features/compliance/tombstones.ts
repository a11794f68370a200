// What the proof routes must no longer serve, even from the proof cache (memory or Redis, where a
// built snapshot's proofs live for days): users erased from a snapshot, and snapshots the
// retention policy retired. Held in memory — checking costs no query per proof — updated at once
// by this instance's erasures and retention runs, and from the database every `refreshMs` for
// what other instances did.

import { ReservesErrorCode } from '@cairn/reserves'
import { CairnError, type Logger } from '@cairn/utils'
import { type AtRestKey, userKey } from '../../kernel/at-rest.ts'
import type { Sql } from '../../kernel/sql.ts'

/** The audit log's keyed ref of a user in a snapshot (16 bytes of the users table's lookup key, hex). */
export function userRef(key: AtRestKey, snapshotId: string, userId: string): string {
  return Buffer.from(userKey(key, snapshotId, userId).subarray(0, 16)).toString('hex')
}

/** A retired snapshot as the routes explain it. */
export interface Retired {
  status: 'archived' | 'deleted'
  at: string
}

export class Tombstones {
  /** `${snapshot}\0${ref}` → erased at (ISO). */
  private readonly erased = new Map<string, string>()
  private readonly retired = new Map<string, Retired>()
  private lastSeq = 0
  private timer: NodeJS.Timeout | null = null
  private inFlight: Promise<void> | null = null
  private started = false

  constructor(
    private readonly opts: { refreshMs: number },
    private readonly modules: { sql: Sql; key: AtRestKey; logger: Logger },
  ) {}

  addErased(snapshotId: string, ref: string, at: string): void {
    this.erased.set(`${snapshotId}\0${ref}`, at)
  }

  addRetired(snapshotId: string, r: Retired): void {
    this.retired.set(snapshotId, r)
  }

  /** Reads erasures newer than the last seen and every retired snapshot. */
  async refresh(): Promise<void> {
    const rows = await this.modules.sql.query(
      'SELECT seq, snapshot_id, ref, erased_at FROM reserves_erasures WHERE seq > $1 ORDER BY seq',
      [this.lastSeq],
    )
    for (const r of rows) {
      this.addErased(r.snapshot_id as string, r.ref as string, new Date(r.erased_at as string).toISOString())
      this.lastSeq = Math.max(this.lastSeq, Number(r.seq))
    }
    const gone = await this.modules.sql.query(
      `SELECT id, status, retired FROM reserves_snapshots WHERE status IN ('archived', 'deleted')`,
    )
    for (const g of gone)
      this.addRetired(g.id as string, {
        status: g.status as Retired['status'],
        at: ((g.retired as { at?: string } | null)?.at ?? '') as string,
      })
  }

  /** Resolves once the first refresh is done (ok or not): proof routes wait for it after a start. */
  ready: Promise<void> = Promise.resolve()

  /** Refreshes now, then every `refreshMs` until {@link stop}. */
  start(): void {
    this.started = true
    const tick = (): Promise<void> =>
      (this.inFlight = this.refresh()
        .catch((err: unknown) => this.modules.logger.warn({ err }, 'compliance: tombstones not refreshed'))
        .finally(() => {
          if (this.started) this.timer = setTimeout(tick, this.opts.refreshMs).unref()
        }))
    this.ready = tick()
  }

  /** Stops refreshing, once a refresh under way (if any) is done. */
  async stop(): Promise<void> {
    this.started = false
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    await this.inFlight
  }

  /** Why the snapshot serves no proofs any more (null: it may). */
  retiredError(snapshotId: string): CairnError | null {
    const r = this.retired.get(snapshotId)
    if (!r) return null
    return new CairnError(
      ReservesErrorCode.SNAPSHOT_NOT_READY,
      `snapshot ${snapshotId} was ${r.status} by the retention policy${r.at ? ` on ${r.at}` : ''}: its proofs are no longer served`,
      {
        fault: 'caller',
        hint: 'its root, totals and anchor stay at GET /v1/snapshots/:id; a newer snapshot has proofs',
      },
    )
  }

  /** Why the user has no proof in the snapshot (null: not erased, not retired). */
  goneError(snapshotId: string, userId: string): CairnError | null {
    const retired = this.retiredError(snapshotId)
    if (retired) return retired
    const at = this.erased.get(`${snapshotId}\0${userRef(this.modules.key, snapshotId, userId)}`)
    if (at === undefined) return null
    return new CairnError(
      ReservesErrorCode.USER_UNKNOWN,
      `user ${userId}'s data in snapshot ${snapshotId} was erased on ${at} at their request (GDPR erasure): there is no proof any more`,
      {
        fault: 'caller',
        hint: "the snapshot's root and totals are unchanged and every other user's proof still verifies",
      },
    )
  }
}
