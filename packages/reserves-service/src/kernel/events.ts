// Service events (snapshot built / failed / anchored, a build queued) for every instance: in one
// process they go straight to the subscribers (LocalEventBus); over PostgreSQL every instance
// LISTENs on one channel and NOTIFY delivers each event to all of them, the publisher included
// (PgEventBus), so a WebSocket client on any instance hears of a build another instance's worker
// finished, and idle workers wake when a build is queued anywhere.

import { ReservesErrorCode } from '@cairn/reserves'
import { clientWithPassword } from '@cairn/service-kit/sql'
import { CairnError, type Logger } from '@cairn/utils'
import pg from 'pg'

const down = (message: string) =>
  new CairnError(ReservesErrorCode.STORAGE_FAILED, message, {
    fault: 'transient',
    hint: 'the LISTEN connection to PostgreSQL is reopened every second; check that the database is reachable',
  })

export interface ReservesEvent {
  type: string
  id?: string
  [k: string]: unknown
}

export interface EventBus {
  publish(e: ReservesEvent): Promise<void>
  subscribe(fn: (e: ReservesEvent) => void): void
  /** Throws when events cannot currently be delivered to other instances (readiness). */
  check(): Promise<void>
  close(): Promise<void>
}

export class LocalEventBus implements EventBus {
  private readonly subs: ((e: ReservesEvent) => void)[] = []
  async publish(e: ReservesEvent): Promise<void> {
    for (const s of this.subs) s(e)
  }
  subscribe(fn: (e: ReservesEvent) => void): void {
    this.subs.push(fn)
  }
  async check(): Promise<void> {}
  async close(): Promise<void> {}
}

/**
 * LISTEN/NOTIFY on `reserves_events_<schema>` (instances sharing a schema share the channel). One
 * dedicated connection; when it drops it is reopened every second, and events published meanwhile
 * by others are missed (clients re-read the snapshot on reconnect: events are hints, the database is
 * the truth).
 */
export class PgEventBus implements EventBus {
  private client: pg.Client | null = null
  private channel = ''
  private closed = false
  private readonly subs: ((e: ReservesEvent) => void)[] = []
  private retry: NodeJS.Timeout | null = null

  constructor(
    /** `password`: asked at every (re)connect, as the pool does (a rotated database password). */
    private readonly opts: { url: string; password?: () => Promise<string> },
    private readonly modules: { logger: Logger },
  ) {}

  async open(): Promise<void> {
    const Client = this.opts.password ? clientWithPassword(this.opts.password) : pg.Client
    const c = new Client({ connectionString: this.opts.url })
    c.on('error', (err) => this.dropped(c, err))
    c.on('end', () => this.dropped(c, null))
    await c.connect()
    const schema = (await c.query('SELECT current_schema() AS s')).rows[0].s as string
    this.channel = `reserves_events_${schema}`.replace(/[^A-Za-z0-9_]/g, '_').slice(0, 63)
    c.on('notification', (n) => {
      if (n.channel !== this.channel || !n.payload) return
      let e: ReservesEvent
      try {
        e = JSON.parse(n.payload) as ReservesEvent
      } catch {
        return
      }
      for (const s of this.subs) s(e)
    })
    await c.query(`LISTEN ${this.channel}`)
    this.client = c
  }

  private dropped(c: pg.Client, err: unknown): void {
    if (this.client !== c || this.closed) return
    this.client = null
    this.modules.logger.warn({ err }, 'event bus: the LISTEN connection dropped; reconnecting')
    const again = () => {
      this.retry = null
      if (this.closed) return
      this.open().catch(() => {
        this.retry = setTimeout(again, 1000)
      })
    }
    this.retry = setTimeout(again, 1000)
  }

  async publish(e: ReservesEvent): Promise<void> {
    const c = this.client
    if (!c) throw down('event bus: not connected to PostgreSQL')
    await c.query('SELECT pg_notify($1, $2)', [this.channel, JSON.stringify(e)])
  }

  subscribe(fn: (e: ReservesEvent) => void): void {
    this.subs.push(fn)
  }

  async check(): Promise<void> {
    if (!this.client) throw down('the LISTEN connection to PostgreSQL is down')
    await this.client.query('SELECT 1')
  }

  async close(): Promise<void> {
    this.closed = true
    if (this.retry) clearTimeout(this.retry)
    const c = this.client
    this.client = null
    await c?.end().catch(() => {})
  }
}
