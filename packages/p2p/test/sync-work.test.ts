// Range sync on a heaviest-work chain (proof of work) compares total work, not head numbers: a
// peer on a shorter but heavier branch is synced from (its branch fetched from below its head and
// the node reorgs onto it), a peer higher but lighter is not. With head numbers only (no work
// known: how sync chose before), the heavier branch was never asked for.
import { bytesToHex, silentLogger } from '@cairn/utils'
import { afterEach, describe, expect, it } from 'vitest'
import { parsePowConfig } from '../../consensus/src/pow/index.ts'
import { GENESIS_TIME, mineVia, type PowSetup, powSetup, stopAllPow } from '../../consensus/test/pow/pow-setup.ts'
import { decodeStatus, encodeStatus, type Status } from '../src/codec.ts'
import { RangeSync, type SyncPeer } from '../src/sync.ts'

// A half-life of one spacing: blocks a second apart get much harder, blocks far apart stay at the limit.
const params = parsePowConfig({
  config: {
    cairn: {
      pow: {
        halfLife: 12,
        powLimit: '0x207fffff',
        genesisBits: '0x207fffff',
        seal: { memoryKiB: 64, iterations: 1 },
      },
    },
  },
})

afterEach(stopAllPow)

async function work(s: PowSetup): Promise<bigint> {
  return s.engine.totalWork.of(s.chain.head.header, s.chain)
}

/** A range sync of `local` from `peers` (each serving its chain's canonical blocks). */
function syncOf(
  local: PowSetup,
  peers: Record<string, PowSetup>,
  heads: SyncPeer[],
  byWork: boolean,
  asked: string[] = [],
): RangeSync {
  return new RangeSync(
    { batch: 4, parallel: 2, retryMs: 60_000 },
    {
      chain: local.chain,
      logger: silentLogger,
      metrics: null,
      peers: () => heads,
      fetchRange: async (peer, start, count) => {
        asked.push(peer)
        const out: Uint8Array[] = []
        for (let n = start; n < start + BigInt(count); n++) {
          const b = await peers[peer]?.chain.getBlockByNumber(n)
          if (b) out.push(b.serialize())
        }
        return out
      },
      penalize: () => {},
      ...(byWork ? { localWork: () => local.engine.headTotalWork() } : {}),
      setTimeout: () => 0,
      clearTimeout: () => {},
    },
  )
}

describe('range sync on a heaviest-work chain', () => {
  it('follows the heavier peer on a shorter branch and leaves a higher, lighter one alone', async () => {
    // local: 7 blocks two minutes apart (each at the pow limit: ~2 attempts of work)
    const local = await powSetup({ params })
    for (let i = 1; i <= 7; i++) await mineVia(local, GENESIS_TIME + 120 * i)
    // heavy: 4 blocks a second apart (each harder than the last)
    const heavy = await powSetup({ params })
    for (let i = 1; i <= 4; i++) await mineVia(heavy, GENESIS_TIME + i)
    // light: 9 blocks two minutes apart, but another branch than local's
    const light = await powSetup({ params, coinbase: new Uint8Array(20).fill(9) })
    for (let i = 1; i <= 9; i++) await mineVia(light, GENESIS_TIME + 121 * i)
    const [localWork, heavyWork, lightWork] = [await work(local), await work(heavy), await work(light)]
    expect(heavyWork).toBeGreaterThan(localWork)
    expect(lightWork).toBeLessThan(heavyWork)
    local.clock.now = GENESIS_TIME + 2000
    await new Promise((r) => setTimeout(r, 0)) // the engine's head-work refresh
    expect(local.engine.headTotalWork()).toBe(localWork)

    const heads: SyncPeer[] = [
      { id: 'heavy', headNumber: 4n, headWork: heavyWork },
      { id: 'light', headNumber: 9n, headWork: lightWork },
    ]
    const peers = { heavy, light }
    // By head numbers (the work unknown): the light peer is asked, the heavy one never.
    const before = bytesToHex(local.chain.head.hash())
    const asked: string[] = []
    const byNumber = syncOf(local, peers, heads, false, asked)
    byNumber.trigger()
    await byNumber.settled()
    expect(asked).not.toContain('heavy')
    expect(asked).toContain('light')
    byNumber.stop()

    // By total work: the heavy peer's branch is fetched and wins; the light peer is not asked.
    const askedByWork: string[] = []
    const sync = syncOf(local, peers, heads, true, askedByWork)
    sync.trigger()
    await sync.settled()
    expect(bytesToHex(local.chain.head.hash())).toBe(bytesToHex(heavy.chain.head.hash()))
    expect(bytesToHex(local.chain.head.hash())).not.toBe(before)
    await new Promise((r) => setTimeout(r, 0))
    expect(local.engine.headTotalWork()).toBe(heavyWork)
    expect(askedByWork).not.toContain('light')
    // Nobody is ahead any more: the next trigger asks nothing.
    const again = syncOf(local, peers, heads, true)
    again.trigger()
    await again.settled()
    expect(again.active).toBe(false)
    sync.stop()
  })
})

describe('the status’s head work', () => {
  const status: Status = {
    chainId: 4242n,
    genesisHash: new Uint8Array(32).fill(1),
    forkId: { hash: new Uint8Array(4).fill(2), next: 0n },
    headHash: new Uint8Array(32).fill(3),
    headNumber: 7n,
    finalizedHash: new Uint8Array(32),
    finalizedNumber: 0n,
  }
  it('travels as an 8th field when the engine knows it, and is absent otherwise (seven fields, as before)', () => {
    const withWork = decodeStatus(encodeStatus({ ...status, headWork: 123_456_789n }))
    expect(withWork.headWork).toBe(123_456_789n)
    expect(withWork.headNumber).toBe(7n)
    const without = decodeStatus(encodeStatus(status))
    expect('headWork' in without).toBe(false)
    expect(encodeStatus(status).length).toBeLessThan(encodeStatus({ ...status, headWork: 1n }).length)
  })
})
