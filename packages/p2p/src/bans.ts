import { readFileSync, renameSync, writeFileSync } from 'node:fs'
import type { Logger } from '@cairn/utils'
import { z } from 'zod'

const BansFile = z.record(z.string(), z.object({ until: z.number(), reason: z.string() }))

/**
 * Banned peers with an expiry, kept in a JSON file of the datadir (written atomically on every
 * change) so bans survive restarts. `path: null` keeps them in memory. Time is injected.
 */
export class BanList {
  private bans = new Map<string, { until: number; reason: string }>()

  constructor(
    private readonly opts: { path: string | null },
    private readonly modules: { logger: Logger; now?: () => number },
  ) {
    if (opts.path === null) return
    let text: string
    try {
      text = readFileSync(opts.path, 'utf8')
    } catch {
      return
    }
    const parsed = BansFile.safeParse(JSON.parse(text))
    if (parsed.success) this.bans = new Map(Object.entries(parsed.data))
    else modules.logger.warn({ path: opts.path }, 'ignoring an unreadable ban list')
  }

  private now(): number {
    return (this.modules.now ?? Date.now)()
  }

  ban(peer: string, seconds: number, reason: string): void {
    this.bans.set(peer, { until: this.now() + seconds * 1000, reason })
    this.save()
  }

  unban(peer: string): void {
    if (this.bans.delete(peer)) this.save()
  }

  /** True while the peer's ban has not expired. */
  isBanned(peer: string): boolean {
    const b = this.bans.get(peer)
    if (!b) return false
    if (b.until > this.now()) return true
    this.bans.delete(peer)
    this.save()
    return false
  }

  /** Bans in force. */
  list(): { peer: string; until: number; reason: string }[] {
    const t = this.now()
    return [...this.bans].filter(([, b]) => b.until > t).map(([peer, b]) => ({ peer, ...b }))
  }

  private save(): void {
    if (this.opts.path === null) return
    const tmp = `${this.opts.path}.tmp`
    writeFileSync(tmp, JSON.stringify(Object.fromEntries(this.bans)), { mode: 0o600 })
    renameSync(tmp, this.opts.path)
  }
}
