// Delivers webhook events: claims due deliveries (deliveries.ts) up to `concurrency` at a time,
// POSTs each event's stored JSON body to its endpoint with the idempotency key (the event id), a
// timestamp and the HMAC signature over `timestamp.body`, and records the answer — 2xx delivered,
// anything else (or no answer within the timeout) retried after an exponentially growing, jittered
// delay, and dead-lettered after the last attempt. Any number of workers (one per instance) share
// the queue; a worker killed mid-request leaves its lease to run out and the delivery is sent
// again, with the same idempotency key.

import {
  type BackoffOptions,
  backoffDelayMs,
  DEFAULT_BACKOFF,
  IDEMPOTENCY_HEADER,
  SIGNATURE_HEADER,
  signWebhook,
  TIMESTAMP_HEADER,
} from '@cairn/reserves/webhooks'
import { WakeableSleep } from '@cairn/service-kit'
import type { Logger } from '@cairn/utils'
import type { ClaimedDelivery, Deliveries } from './deliveries.ts'
import type { WebhookEndpoints } from './endpoints.ts'
import type { WebhookMetrics } from './metrics.ts'

export interface WebhookDeliveryOptions {
  /** Whether this instance delivers (an instance that does not still records events and serves the API). */
  deliver: boolean
  /** Attempts of one delivery before it goes to the dead-letter list. */
  maxAttempts: number
  /** The retry schedule (backoff.ts). */
  backoff: BackoffOptions
  /** Longest wait for an endpoint's answer, ms (then the attempt failed). */
  timeoutMs: number
  /** A worker's hold on a claimed delivery; must exceed `timeoutMs`. A dead worker's deliveries are sent again after it. */
  leaseMs: number
  /** How often an idle worker looks for due deliveries (it is also woken when this instance records an event). */
  pollMs: number
  /** Requests in flight at once. */
  concurrency: number
}

export const DEFAULT_WEBHOOKS: WebhookDeliveryOptions = {
  deliver: true,
  maxAttempts: 15,
  backoff: DEFAULT_BACKOFF,
  timeoutMs: 10_000,
  leaseMs: 30_000,
  pollMs: 1_000,
  concurrency: 8,
}

export interface WebhookWorkerModules {
  deliveries: Deliveries
  endpoints: WebhookEndpoints
  logger: Logger
  metrics: WebhookMetrics
  /** Milliseconds since the epoch: the signature's timestamp and attempt durations. */
  clockMs: () => number
  /** A number in [0, 1): the retry jitter. */
  random: () => number
}

const USER_AGENT = 'cairn-reserves-webhooks/1'

/** A fetch failure as one line (undici hides the reason in `cause`). */
function describe(err: unknown): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } }
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return e.message ?? 'aborted'
  const why = e?.cause?.code ?? e?.cause?.message
  return `${e?.message ?? String(err)}${why ? ` (${why})` : ''}`
}

export class WebhookWorker {
  private stopped = false
  private loop: Promise<void> | null = null
  private readonly inFlight = new Set<Promise<void>>()
  private readonly aborts = new Set<AbortController>()
  private readonly idle = new WakeableSleep()
  private lastBacklog = 0

  constructor(
    readonly opts: WebhookDeliveryOptions & { owner: string },
    private readonly modules: WebhookWorkerModules,
  ) {}

  start(): void {
    this.loop ??= this.run()
  }

  /** Looks for due deliveries now (an event was recorded). */
  wake(): void {
    this.idle.wake()
  }

  /** Stops claiming; requests in flight are aborted and handed back (sent again by the next worker). */
  async stop(): Promise<void> {
    this.stopped = true
    for (const a of this.aborts) a.abort(new Error('the worker is stopping'))
    this.wake()
    await this.loop
    await Promise.allSettled([...this.inFlight])
  }

  /** Updates the backlog gauge (at most once per poll interval unless `force`). */
  async refreshBacklog(force = false): Promise<number | null> {
    const now = this.modules.clockMs()
    if (!force && now - this.lastBacklog < this.opts.pollMs) return null
    this.lastBacklog = now
    try {
      const n = await this.modules.deliveries.backlog()
      this.modules.metrics.backlog.set(n)
      return n
    } catch {
      return null
    }
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const free = this.opts.concurrency - this.inFlight.size
      let claimed: ClaimedDelivery[] = []
      if (free > 0) {
        try {
          claimed = await this.modules.deliveries.claim(this.opts.owner, this.opts.leaseMs, free)
        } catch (err) {
          this.modules.logger.warn({ err }, 'webhooks: cannot claim deliveries')
        }
      }
      for (const d of claimed) {
        const p: Promise<void> = this.deliver(d)
          .catch((err: unknown) => this.modules.logger.error({ err, event: d.eventId }, 'webhooks: delivery failed'))
          .finally(() => {
            this.inFlight.delete(p)
            this.wake()
          })
        this.inFlight.add(p)
      }
      await this.refreshBacklog()
      if (this.stopped) break
      if (claimed.length > 0 && claimed.length < free) continue
      await this.sleep()
    }
  }

  private sleep(): Promise<void> {
    return this.idle.sleep(this.opts.pollMs)
  }

  /** One attempt at one delivery. */
  private async deliver(d: ClaimedDelivery): Promise<void> {
    const { deliveries, endpoints, metrics, logger } = this.modules
    const owner = this.opts.owner
    const log = logger.child({ webhook: d.webhookId, event: d.eventId, type: d.eventType, attempt: d.attempt })
    if (d.attempt > this.opts.maxAttempts) {
      // claimed again after interrupted attempts used up the budget (crashes mid-request)
      const state = await deliveries.failed(d, owner, { status: null, error: 'attempts exhausted' }, null)
      if (state) metrics.deliveries.inc({ outcome: 'dead' })
      log.error('webhook delivery dead-lettered: attempts exhausted by interrupted attempts')
      return
    }
    let secrets: string[]
    try {
      secrets = endpoints.secretsOf(d.webhookId, d.secretEnc, d.prevSecretEnc)
    } catch (err) {
      log.error({ err }, 'webhook secret does not open with the at-rest key: delivery held until its lease runs out')
      return
    }
    const started = this.modules.clockMs()
    const t = Math.floor(started / 1000)
    const abort = new AbortController()
    this.aborts.add(abort)
    const timer = setTimeout(
      () => abort.abort(new Error(`no answer within ${this.opts.timeoutMs} ms`)),
      this.opts.timeoutMs,
    )
    let status: number | null = null
    let error = ''
    try {
      const res = await fetch(d.url, {
        method: 'POST',
        body: d.body,
        redirect: 'manual',
        signal: abort.signal,
        headers: {
          'content-type': 'application/json',
          'user-agent': USER_AGENT,
          [IDEMPOTENCY_HEADER]: d.eventId,
          'cairn-event-id': d.eventId,
          'cairn-event-type': d.eventType,
          'cairn-delivery-attempt': String(d.attempt),
          [TIMESTAMP_HEADER]: String(t),
          [SIGNATURE_HEADER]: signWebhook(secrets, d.body, t),
        },
      })
      status = res.status
      await res.body?.cancel().catch(() => {})
    } catch (err) {
      error = abort.signal.aborted ? String((abort.signal.reason as Error)?.message ?? 'aborted') : describe(err)
    } finally {
      clearTimeout(timer)
      this.aborts.delete(abort)
    }
    const seconds = Math.max(0, (this.modules.clockMs() - started) / 1000)
    if (this.stopped && status === null) {
      await deliveries.release(d, owner).catch(() => {})
      log.info('webhook delivery handed back: the worker is stopping')
      return
    }
    if (status !== null && status >= 200 && status < 300) {
      metrics.requestSeconds.observe({ outcome: 'delivered' }, seconds)
      const lag = await deliveries.delivered(d, owner, status)
      if (lag === null) {
        metrics.deliveries.inc({ outcome: 'lost' })
        log.warn(
          'webhook delivered, but its lease had been taken over: it may be delivered again (same idempotency key)',
        )
        return
      }
      metrics.deliveries.inc({ outcome: 'delivered' })
      metrics.latencySeconds.observe(lag)
      log.info({ status, ms: Math.round(seconds * 1000) }, 'webhook delivered')
      return
    }
    if (status !== null) error = `HTTP ${status}${status >= 300 && status < 400 ? ' (redirects are not followed)' : ''}`
    const last = d.attempt >= this.opts.maxAttempts
    const retryMs = last ? null : backoffDelayMs(d.attempt, this.opts.backoff, this.modules.random)
    metrics.requestSeconds.observe({ outcome: 'failed' }, seconds)
    const state = await deliveries.failed(d, owner, { status, error }, retryMs)
    if (state === null) {
      metrics.deliveries.inc({ outcome: 'lost' })
      log.warn({ error }, 'webhook attempt failed after its lease had been taken over')
    } else if (state === 'dead') {
      metrics.deliveries.inc({ outcome: 'dead' })
      log.error({ error, status }, `webhook delivery dead-lettered after ${d.attempt} attempts`)
    } else {
      metrics.deliveries.inc({ outcome: 'retried' })
      log.warn({ error, status, retryMs }, 'webhook attempt failed: will retry')
    }
  }
}
