import { BlockList, isIP } from 'node:net'
import { CairnError } from '@cairn/utils'
import { P2pErrorCode } from './errors.ts'

export interface InboundLimitsOptions {
  /** Most inbound connections from one IP at a time (being upgraded or open). */
  maxPerIp: number
  /**
   * Most inbound connections from one IP still in their handshake (not yet `upgraded`); absent: only
   * `maxPerIp`. libp2p's own bound on handshakes (`maxIncomingPendingConnections`) is shared by every
   * address: without this, a few silent connections from one address keep every new peer out.
   */
  maxPendingPerIp?: number
  /** Most inbound connections one IP may open within any `windowMs`. */
  ratePerIp: number
  /** The rate's window (ms). */
  windowMs: number
  /** Addresses and CIDRs (`127.0.0.0/8`, `::1/128`, `10.0.0.7`) to which neither limit applies. */
  exempt: string[]
}

export type InboundRefusal = 'per_ip' | 'rate' | 'pending'

/** Every {@link InboundRefusal}, for metrics exported at 0. */
export const INBOUND_REFUSALS: readonly InboundRefusal[] = ['per_ip', 'rate', 'pending']

/**
 * An admitted connection calls `upgraded` when its handshake is done (it stops counting as pending)
 * and `release` when it closes (both idempotent; `release` covers a handshake that never finished).
 */
export type Admission =
  | { ok: true; release: () => void; upgraded: () => void }
  | { ok: false; reason: InboundRefusal; live: number }

const NOTHING = () => {}

/** The defaults: loopback exempt (tests, local tooling, a local proxy all come from it), as geth exempts LAN peers from its inbound throttle. */
export const LOOPBACK = ['127.0.0.0/8', '::1/128']

/**
 * Inbound connection limits per remote IP, decided when a connection arrives (the gater's
 * `denyInboundConnection`, before the handshake is paid for): at most `maxPerIp` live at once —
 * the ones still in their handshake count, so a burst cannot slip past the cap before any is open
 * —, at most `maxPendingPerIp` of them still in their handshake, and at most `ratePerIp` admitted
 * within any window of `windowMs` (a sliding log of admission
 * times, so the bound holds for every window, not only aligned ones). Refusals spend nothing:
 * a peer that keeps knocking is refused as cheaply each time. Time is injected.
 */
export class InboundLimiter {
  private readonly ips = new Map<string, Entry>()
  private readonly exempt = new BlockList()
  private lastSweep = 0

  constructor(
    private readonly opts: InboundLimitsOptions,
    private readonly modules: { now?: () => number } = {},
  ) {
    for (const entry of opts.exempt) {
      const { address, prefix, family } = parseCidr(entry)
      this.exempt.addSubnet(address, prefix, family)
    }
  }

  isExempt(ip: string): boolean {
    const addr = normalize(ip)
    const family = isIP(addr)
    return family !== 0 && this.exempt.check(addr, family === 4 ? 'ipv4' : 'ipv6')
  }

  /** Admits a connection from `ip` or says why not; an admitted one must be `release`d when it closes (idempotent). */
  admit(ip: string): Admission {
    if (this.isExempt(ip)) return { ok: true, release: NOTHING, upgraded: NOTHING }
    const now = this.now()
    this.sweep(now)
    const key = normalize(ip)
    const entry = this.ips.get(key) ?? { live: 0, pending: 0, admitted: [] }
    this.expire(entry, now)
    if (entry.live >= this.opts.maxPerIp) return { ok: false, reason: 'per_ip', live: entry.live }
    const maxPending = this.opts.maxPendingPerIp
    if (maxPending !== undefined && entry.pending >= maxPending)
      return { ok: false, reason: 'pending', live: entry.live }
    if (entry.admitted.length >= this.opts.ratePerIp) return { ok: false, reason: 'rate', live: entry.live }
    entry.live++
    entry.pending++
    entry.admitted.push(now)
    this.ips.set(key, entry)
    let pending = true
    let released = false
    const upgraded = () => {
      if (!pending) return
      pending = false
      entry.pending--
    }
    return {
      ok: true,
      upgraded,
      release: () => {
        if (released) return
        released = true
        upgraded()
        entry.live--
        if (entry.live === 0 && entry.admitted.length === 0) this.ips.delete(key)
      },
    }
  }

  /** Inbound connections from `ip` still in their handshake. */
  pending(ip: string): number {
    return this.ips.get(normalize(ip))?.pending ?? 0
  }

  /** Live inbound connections from `ip` (exempt addresses are not tracked: 0). */
  live(ip: string): number {
    return this.ips.get(normalize(ip))?.live ?? 0
  }

  /** IPs with state kept (live connections, or admissions still inside the window). */
  tracked(): number {
    return this.ips.size
  }

  private now(): number {
    return (this.modules.now ?? Date.now)()
  }

  private expire(entry: { admitted: number[] }, now: number): void {
    let drop = 0
    while (drop < entry.admitted.length && (entry.admitted[drop] as number) <= now - this.opts.windowMs) drop++
    if (drop > 0) entry.admitted.splice(0, drop)
  }

  /** At most once a window: forgets the IPs with nothing live and nothing left in the window (memory stays bounded by recent traffic). */
  private sweep(now: number): void {
    if (now - this.lastSweep < this.opts.windowMs) return
    this.lastSweep = now
    for (const [key, entry] of this.ips) {
      this.expire(entry, now)
      if (entry.live === 0 && entry.admitted.length === 0) this.ips.delete(key)
    }
  }
}

/** What is kept per remote IP: connections live (pending included), in their handshake, and admission times in the window. */
interface Entry {
  live: number
  pending: number
  admitted: number[]
}

/** `::ffff:1.2.3.4` (an IPv4 peer on a dual-stack socket) is 1.2.3.4. */
function normalize(ip: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)
  return m ? (m[1] as string) : ip.toLowerCase()
}

/** `a.b.c.d/n`, `x::y/n` or a bare address (a /32 or /128). Throws on anything else. */
export function parseCidr(entry: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } {
  const [address = '', bits, ...rest] = entry.trim().split('/')
  const family = isIP(address)
  if (family === 0 || rest.length > 0) throw invalid(`not an IP address or CIDR: ${entry}`)
  const max = family === 4 ? 32 : 128
  const prefix = bits === undefined ? max : /^\d{1,3}$/.test(bits) ? Number(bits) : Number.NaN
  if (!(prefix >= 0 && prefix <= max)) throw invalid(`bad prefix length in ${entry} (0–${max})`)
  return { address, prefix, family: family === 4 ? 'ipv4' : 'ipv6' }
}

function invalid(message: string): CairnError {
  return new CairnError(P2pErrorCode.CONFIG_INVALID, message, { fault: 'caller' })
}

/** Whether `entry` is an address or CIDR `parseCidr` takes (for the config schemas). */
export function isCidr(entry: string): boolean {
  try {
    parseCidr(entry)
    return true
  } catch {
    return false
  }
}
