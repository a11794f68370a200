// The node's push side: a WebSocket with two `eth_subscribe`s — `newHeads` (a new block: poll now,
// not at the next interval) and `logs` for the pools' Sync and the factories' PairCreated topics
// (a log with `removed: true` means the node dropped a block: the tracker undoes it). The blocks'
// contents are still read by hash (eth_getLogs), so a block is applied whole even though a
// subscription cannot say when a block's last log has arrived.
//
// The socket is this module's: when it closes or fails it says `down` (the service polls at its
// interval meanwhile), reconnects with capped exponential backoff, subscribes again and says `up`
// (the service then reconciles every pool with getReserves: notifications were lost meanwhile).
import { CairnError, type Logger } from '@cairn/utils'
import { type Hex, toEventSelector } from 'viem'
import { getWebSocketRpcClient } from 'viem/utils'
import { ArbErrorCode } from '../errors.ts'
import { pairCreatedEvent, syncEvent } from './abi.ts'

const failed = (message: string) =>
  new CairnError(ArbErrorCode.RPC, `eth_subscribe failed: ${message}`, {
    fault: 'transient',
    meta: { method: 'eth_subscribe' },
  })

export interface ChainStreamOptions {
  /** ws:// or wss:// JSON-RPC endpoint. */
  url: string
  /** First reconnect delay and its cap, ms (default 250 / 15 000; doubled per failed attempt). */
  reconnect?: { initialMs: number; maxMs: number }
}

export interface ChainStreamEvents {
  /** A new head (the block is read over JSON-RPC by the tracker's poll). */
  head(block: { number: bigint; hash: Hex }): void
  /** A log of a block the node no longer has on its canonical chain. */
  removed(block: { number: bigint; hash: Hex }): void
  /** Subscribed (first time and after every reconnect). */
  up(): void
  /** The socket closed or failed; reconnecting. */
  down(reason: string): void
}

type SocketClient = Awaited<ReturnType<typeof getWebSocketRpcClient>>
type Message = {
  id?: number
  result?: unknown
  error?: { message?: string }
  method?: string
  params?: { subscription: string; result: Record<string, unknown> }
}

/** The topics of the logs the tracker reads: Sync and PairCreated. */
export const TRACKED_TOPICS: readonly Hex[] = [toEventSelector(syncEvent), toEventSelector(pairCreatedEvent)]

export class ChainStream {
  private client: SocketClient | null = null
  private closed = false
  private failures = 0
  private timer: ReturnType<typeof setTimeout> | undefined
  private connecting: Promise<void> | null = null
  /** True while both subscriptions are live. */
  connected = false

  constructor(
    readonly opts: ChainStreamOptions,
    private readonly modules: { logger: Logger; events: ChainStreamEvents },
  ) {}

  /** Connects in the background (failures are retried; `up` says when subscribed). */
  start(): void {
    this.connecting = this.connect()
  }

  /** Resolves once the current connection attempt settled (tests). */
  async settled(): Promise<void> {
    await this.connecting
  }

  async close(): Promise<void> {
    this.closed = true
    clearTimeout(this.timer)
    await this.connecting
    const c = this.client
    this.client = null
    this.connected = false
    c?.close()
  }

  private async connect(): Promise<void> {
    if (this.closed) return
    const { logger, events } = this.modules
    let client: SocketClient | undefined
    try {
      // viem shares a socket per URL and options: without its own reconnects this one is ours alone
      // (the service's calls, if over ws, use viem's reconnecting transport)
      client = await getWebSocketRpcClient(this.opts.url, {
        reconnect: false,
        keepAlive: { interval: 15_000 },
      })
      if (this.closed) {
        client.close()
        return
      }
      this.client = client
      const c = client
      await Promise.all([
        this.subscribe(c, ['newHeads'], (r) => {
          if (typeof r.number === 'string' && typeof r.hash === 'string')
            events.head({ number: BigInt(r.number), hash: r.hash as Hex })
        }),
        this.subscribe(c, ['logs', { topics: [TRACKED_TOPICS] }], (r) => {
          if (r.removed === true && typeof r.blockNumber === 'string' && typeof r.blockHash === 'string')
            events.removed({ number: BigInt(r.blockNumber), hash: r.blockHash as Hex })
        }),
      ])
      if (this.client !== c) return // lost while subscribing
      this.failures = 0
      this.connected = true
      logger.info({ url: redact(this.opts.url) }, 'subscribed to new heads and pool logs')
      events.up()
    } catch (err) {
      if (client && this.client === client) this.lost(client, err)
      else if (!client) this.retry(err)
    }
  }

  /** eth_subscribe; resolves once the node answered with an id, then calls `onData` per notification. */
  private subscribe(
    c: SocketClient,
    params: unknown[],
    onData: (result: Record<string, unknown>) => void,
  ): Promise<void> {
    return new Promise((resolve, reject) => {
      c.request({
        body: { method: 'eth_subscribe', params },
        onResponse: (raw) => {
          const m = raw as Message
          if (m.method === 'eth_subscription' && m.params) onData(m.params.result)
          else if (m.error) reject(failed(m.error.message ?? 'refused'))
          else if (typeof m.result === 'string') resolve()
        },
        onError: (err?: Error | Event) => {
          reject(err instanceof Error ? err : failed('socket error'))
          this.lost(c, err)
        },
      })
    })
  }

  /** The socket `c` failed: say so once, drop it and reconnect. */
  private lost(c: SocketClient, err: unknown): void {
    if (this.client !== c) return
    this.client = null
    try {
      c.close()
    } catch {
      // already closed
    }
    const reason = err instanceof Error ? err.message.split('\n')[0]! : 'socket closed'
    if (this.connected) {
      this.connected = false
      this.modules.events.down(reason)
    }
    this.retry(err)
  }

  private retry(err: unknown): void {
    if (this.closed) return
    const { initialMs, maxMs } = this.opts.reconnect ?? { initialMs: 250, maxMs: 15_000 }
    const delay = Math.min(maxMs, initialMs * 2 ** Math.min(this.failures, 16))
    this.failures++
    // the first failure and every tenth are warnings; the attempts between them are debug lines
    const log = this.failures === 1 || this.failures % 10 === 0 ? 'warn' : 'debug'
    this.modules.logger[log](
      {
        url: redact(this.opts.url),
        attempt: this.failures,
        retryInMs: delay,
        err: (err as Error)?.message?.split('\n')[0],
      },
      'WebSocket subscription down: polling meanwhile, reconnecting',
    )
    clearTimeout(this.timer)
    this.timer = setTimeout(() => {
      this.connecting = this.connect()
    }, delay)
  }
}

/** The URL without credentials (user:pass@, ?key=). */
function redact(url: string): string {
  try {
    const u = new URL(url)
    u.username = ''
    u.password = ''
    u.search = ''
    return u.toString()
  } catch {
    return 'ws://…'
  }
}
