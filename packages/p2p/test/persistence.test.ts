import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { silentLogger } from '@cairn/utils'
import { afterEach, describe, expect, it } from 'vitest'
import { BanList } from '../src/bans.ts'
import { loadOrCreateIdentity } from '../src/identity.ts'

const dirs: string[] = []
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'cairn-p2p-'))
  dirs.push(d)
  return d
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

describe('persisted p2p state', () => {
  it('bans survive a restart and expire', () => {
    const path = join(tmp(), 'bans.json')
    let t = 1_000_000
    const now = () => t
    new BanList({ path }, { logger: silentLogger, now }).ban('peerA', 60, 'invalid block')
    const again = new BanList({ path }, { logger: silentLogger, now })
    expect(again.isBanned('peerA')).toBe(true)
    expect(again.list()).toEqual([{ peer: 'peerA', until: 1_060_000, reason: 'invalid block' }])
    expect(statSync(path).mode & 0o777).toBe(0o600)
    t += 61_000
    expect(again.isBanned('peerA')).toBe(false)
    expect(new BanList({ path }, { logger: silentLogger, now }).isBanned('peerA')).toBe(false)
  })

  it('the identity key is made once, mode 0600, and gives the same peer id after a restart', async () => {
    const path = join(tmp(), 'p2p', 'nodekey')
    const first = await loadOrCreateIdentity(path)
    expect(first.created).toBe(true)
    expect(statSync(path).mode & 0o777).toBe(0o600)
    const second = await loadOrCreateIdentity(path)
    expect(second.created).toBe(false)
    expect(second.key.publicKey.equals(first.key.publicKey)).toBe(true)
  })
})
