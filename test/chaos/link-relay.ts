// A userspace link emulator for the testbed, for kernels without `tc netem` / `tc tbf`: one TCP
// relay per directed link (i → j). The harness DNATs what node i sends to j's p2p address onto the
// relay's port for (i, j) (netlab.ts); the relay connects to j's real address and pipes the bytes
// both ways, each chunk held back by its direction's latency (± seeded jitter) and paced to its
// bandwidth (a token bucket), never before the chunk ahead of it. Bytes i sends over a connection
// of link (i, j) take link (i, j)'s settings, the answers link (j, i)'s. Settings change at run time
// (`set`); all zero is a pass-through. It delays TCP payload, not packets: no loss, no reordering,
// no retransmits (the kernel's TCP on each side of the relay sees a clean loopback-fast path).
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net'

export interface LinkSettings {
  /** One-way delay added to every chunk, ms. */
  latencyMs: number
  /** Each chunk's delay is latency ± up to this (uniform, from the seeded random source), ms. */
  jitterMs: number
  /** Bandwidth cap of the direction, kbit/s; 0: none. */
  kbit: number
}

export const PASS_THROUGH: LinkSettings = { latencyMs: 0, jitterMs: 0, kbit: 0 }

/** A bucket of 32 kbit (as the testbed's `tc tbf`): an idle capped link sends that much at once. */
const BURST_BYTES = 4_096

export interface RelayTarget {
  /** Where the relay listens (the address the DNAT rule points at); port 0: any free port. */
  listenHost: string
  listenPort: number
  /** The real destination (j's p2p address). */
  host: string
  port: number
  /** The source address of the relay's connection to the destination (one per source node). */
  localAddress?: string
}

export interface LinkRelayOptions {
  /** In [0, 1): the jitter's random source (the testbed's seeded PRNG). */
  random: () => number
  now?: () => number
}

type Item = { at: number; chunk: Buffer } | { at: number; end: true }

/** One direction of one relayed connection: a FIFO of chunks, each with the time it may leave. */
class Pipe {
  readonly #q: Item[] = []
  #queuedBytes = 0
  #lastAt = 0
  /** The token bucket's theoretical arrival time (GCRA): when the bytes given so far have left at the cap. */
  #tat = 0
  #timer: NodeJS.Timeout | undefined
  #closed = false

  constructor(
    private readonly src: Socket,
    private readonly dst: Socket,
    private readonly settings: () => LinkSettings,
    private readonly random: () => number,
    private readonly now: () => number,
    private readonly counted: (bytes: number) => void,
  ) {
    src.on('data', (chunk: Buffer) => this.#push(chunk))
    src.on('end', () => this.#pushEnd())
    dst.on('drain', () => this.#flush())
  }

  #highWater(s: LinkSettings): number {
    // about a second of the cap (at least 16 KB) when capped; else 4 MB
    return s.kbit > 0 ? Math.max(16_384, (s.kbit * 1000) / 8) : 4 * 1024 * 1024
  }

  #schedule(s: LinkSettings, bytes: number): number {
    const now = this.now()
    const jitter = s.jitterMs > 0 ? (2 * this.random() - 1) * s.jitterMs : 0
    let at = Math.max(now + Math.max(0, s.latencyMs + jitter), this.#lastAt)
    if (s.kbit > 0) {
      const perMs = (s.kbit * 1000) / 8 / 1000
      this.#tat = Math.max(this.#tat, at) + bytes / perMs
      at = Math.max(at, this.#tat - BURST_BYTES / perMs)
    }
    this.#lastAt = at
    return at
  }

  #push(chunk: Buffer): void {
    if (this.#closed) return
    const s = this.settings()
    this.counted(chunk.length)
    if (this.#q.length === 0 && s.latencyMs === 0 && s.jitterMs === 0 && s.kbit === 0) {
      this.#lastAt = this.now()
      this.dst.write(chunk)
      if (this.dst.writableLength > this.#highWater(s)) this.src.pause()
      return
    }
    this.#q.push({ at: this.#schedule(s, chunk.length), chunk })
    this.#queuedBytes += chunk.length
    if (this.#queuedBytes + this.dst.writableLength > this.#highWater(s)) this.src.pause()
    this.#arm()
  }

  #pushEnd(): void {
    if (this.#closed) return
    this.#q.push({ at: Math.max(this.now(), this.#lastAt), end: true })
    this.#arm()
  }

  #arm(): void {
    if (this.#timer !== undefined || this.#closed) return
    const head = this.#q[0]
    if (!head) return
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined
        this.#flush()
      },
      Math.max(0, head.at - this.now()),
    )
  }

  #flush(): void {
    if (this.#closed) return
    const now = this.now()
    while (this.#q.length > 0) {
      const head = this.#q[0] as Item
      if (head.at > now) break
      this.#q.shift()
      if ('end' in head) {
        this.dst.end()
        continue
      }
      this.#queuedBytes -= head.chunk.length
      this.dst.write(head.chunk)
    }
    const s = this.settings()
    if (this.src.isPaused() && this.#queuedBytes + this.dst.writableLength <= this.#highWater(s) / 2) this.src.resume()
    this.#arm()
  }

  close(): void {
    this.#closed = true
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#timer = undefined
    this.#q.length = 0
  }
}

export interface LinkStats {
  connections: number
  /** Bytes relayed in the link's direction (from → to). */
  bytes: number
}

/** The relays of a set of directed links between nodes numbered 0…n−1, and each link's settings. */
export class LinkRelay {
  readonly #settings = new Map<string, LinkSettings>()
  /** Links whose whole-run settings differ from the base (kept by {@link reset}). */
  readonly #pinned = new Map<string, LinkSettings>()
  readonly #stats = new Map<string, LinkStats>()
  readonly #servers: Server[] = []
  readonly #sockets = new Set<Socket>()
  readonly #pipes = new Set<Pipe>()
  readonly #random: () => number
  readonly #now: () => number
  #base: LinkSettings = PASS_THROUGH

  constructor(opts: LinkRelayOptions) {
    this.#random = opts.random
    this.#now = opts.now ?? Date.now
  }

  /** The settings of link from → to (the base ones unless set). */
  get(from: number, to: number): LinkSettings {
    const key = `${from}>${to}`
    return this.#settings.get(key) ?? this.#pinned.get(key) ?? this.#base
  }

  /** Link from → to's whole-run settings (what {@link reset} puts back), from the base. */
  pin(from: number, to: number, s: Partial<LinkSettings>): void {
    const key = `${from}>${to}`
    this.#pinned.set(key, { ...(this.#pinned.get(key) ?? this.#base), ...s })
    this.#settings.delete(key)
  }

  /** Changes link from → to (what is not given keeps its value); applies to bytes that arrive from now on. */
  set(from: number, to: number, s: Partial<LinkSettings>): void {
    this.#settings.set(`${from}>${to}`, { ...this.get(from, to), ...s })
  }

  /** Every link back to its whole-run settings: `base` (default: the last one given; at first pass-through), or its pinned ones. */
  reset(base: LinkSettings = this.#base): void {
    this.#base = { ...base }
    this.#settings.clear()
  }

  get base(): LinkSettings {
    return this.#base
  }

  stats(from: number, to: number): LinkStats {
    return this.#stats.get(`${from}>${to}`) ?? { connections: 0, bytes: 0 }
  }

  /** Every link's counts together. */
  totals(): LinkStats & { links: number } {
    const t = { connections: 0, bytes: 0, links: 0 }
    for (const s of this.#stats.values()) {
      t.connections += s.connections
      t.bytes += s.bytes
      if (s.bytes > 0) t.links++
    }
    return t
  }

  #stat(from: number, to: number): LinkStats {
    const key = `${from}>${to}`
    let s = this.#stats.get(key)
    if (!s) {
      s = { connections: 0, bytes: 0 }
      this.#stats.set(key, s)
    }
    return s
  }

  /** Starts the relay of link from → to; resolves with the port it listens on. */
  async listen(from: number, to: number, t: RelayTarget): Promise<number> {
    const server = createServer({ allowHalfOpen: true, noDelay: true }, (client) => this.#accept(from, to, t, client))
    this.#servers.push(server)
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(t.listenPort, t.listenHost, () => {
        server.off('error', reject)
        resolve()
      })
    })
    const addr = server.address()
    if (addr === null || typeof addr === 'string') throw new Error('relay: no port')
    return addr.port
  }

  #accept(from: number, to: number, t: RelayTarget, client: Socket): void {
    const upstream = tcpConnect({
      host: t.host,
      port: t.port,
      allowHalfOpen: true,
      noDelay: true,
      ...(t.localAddress ? { localAddress: t.localAddress } : {}),
    })
    this.#sockets.add(client)
    this.#sockets.add(upstream)
    this.#stat(from, to).connections++
    const fwd = this.#stat(from, to)
    const back = this.#stat(to, from)
    const out = new Pipe(
      client,
      upstream,
      () => this.get(from, to),
      this.#random,
      this.#now,
      (b) => {
        fwd.bytes += b
      },
    )
    const ret = new Pipe(
      upstream,
      client,
      () => this.get(to, from),
      this.#random,
      this.#now,
      (b) => {
        back.bytes += b
      },
    )
    this.#pipes.add(out)
    this.#pipes.add(ret)
    let done = 0
    const finish = () => {
      out.close()
      ret.close()
      this.#pipes.delete(out)
      this.#pipes.delete(ret)
      client.destroy()
      upstream.destroy()
      this.#sockets.delete(client)
      this.#sockets.delete(upstream)
    }
    for (const s of [client, upstream]) {
      s.on('error', finish)
      // a reset ends both at once; a clean close of one waits for the other (its queued bytes still to go)
      s.on('close', () => {
        if (++done >= 2) finish()
      })
    }
  }

  /** Stops listening and cuts every relayed connection. */
  close(): void {
    for (const p of this.#pipes) p.close()
    this.#pipes.clear()
    for (const s of this.#sockets) s.destroy()
    this.#sockets.clear()
    for (const srv of this.#servers) srv.close()
    this.#servers.length = 0
  }
}
