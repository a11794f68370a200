// Mining waits while the node syncs: its threads search nothing and eth_getWork hands out nothing
// (a transient NO_WORK) until the network says it has caught up; then both resume on the head.
import { afterEach, describe, expect, it } from 'vitest'
import { cairnError } from '../../../chain/test/helpers.ts'
import { PowErrorCode } from '../../src/pow/index.ts'
import { until } from '../helpers.ts'
import { mineVia, powSetup, stopAllPow } from './pow-setup.ts'

afterEach(stopAllPow)

describe('PoW engine: mining waits for sync', () => {
  it('eth_getWork refuses while syncing, and hands out work on the head once synced', async () => {
    const s = await powSetup()
    let syncing = true
    s.engine.capabilities.waitsForSync?.followSync(() => syncing)
    const err = await cairnError(s.engine.getWork())
    expect(err.code).toBe(PowErrorCode.NO_WORK)
    expect(err.message).toMatch(/syncing/)
    expect(err.fault).toBe('transient')
    syncing = false
    const head = await mineVia(s)
    expect(head.header.number).toBe(1n)
  })

  it('the mining threads search nothing while syncing and mine once synced', async () => {
    const s = await powSetup({ mine: true, threads: 1, recommitMs: 100 })
    let syncing = true
    // before the engine's first template (a timer): the threads never start on one
    s.engine.followSync(() => syncing)
    await new Promise((r) => setTimeout(r, 1500))
    expect(s.chain.head.header.number).toBe(0n)
    expect(await s.registry.metrics()).toMatch(/cairn_pow_hashes_total 0\n/)
    syncing = false
    await until(() => s.chain.head.header.number >= 1n, 20_000, 'a mined block after the sync')
    // syncing again (a peer got ahead): the threads stop at the next head, the template they had
    // may still give one block (unpaused, blocks of ~2 attempts come every few milliseconds)
    syncing = true
    const at = s.chain.head.header.number
    await new Promise((r) => setTimeout(r, 2500))
    expect(s.chain.head.header.number - at).toBeLessThanOrEqual(1n)
  }, 60_000)
})
