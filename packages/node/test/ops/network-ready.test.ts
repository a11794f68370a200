import { describe, expect, it } from 'vitest'
import { networkReady } from '../../src/readiness.ts'

describe('/ready with a network', () => {
  it('fails with fewer peers than the minimum, or syncing far behind', async () => {
    let peers = 0
    let syncing: { currentBlock: bigint; highestBlock: bigint } | false = false
    const check = networkReady({ minPeers: 1 }, { network: { peerCount: () => peers, syncing: () => syncing } })
    await expect(check()).rejects.toThrow(/fewer than --p2p.min-peers 1/)
    peers = 1
    await expect(check()).resolves.toBeUndefined()
    syncing = { currentBlock: 10n, highestBlock: 1000n }
    await expect(check()).rejects.toThrow(/syncing: at block 10 of 1000/)
    syncing = { currentBlock: 990n, highestBlock: 1000n }
    await expect(check()).resolves.toBeUndefined()
  })
})
