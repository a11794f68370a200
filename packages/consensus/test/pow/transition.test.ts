// The end of proof of work at the chain's transition height (`config.cairn.pow.transition`, the
// PoW half of PoW → PoS): no work is handed out or mined for the height, and a block a miner
// mined there anyway (one whose genesis lacks the entry: same genesis block, older config) is
// refused with its own code, its sender penalised, nothing written.
import { afterEach, describe, expect, it } from 'vitest'
import { cairnError } from '../../../chain/test/helpers.ts'
import { PowErrorCode, parsePowConfig, powConfigJson } from '../../src/pow/index.ts'
import { until } from '../helpers.ts'
import { mineVia, powSetup, stopAllPow, testGenesis } from './pow-setup.ts'

afterEach(stopAllPow)

const pow = { powLimit: '0x207fffff', genesisBits: '0x207fffff', seal: { memoryKiB: 64, iterations: 1 } }
const ending = parsePowConfig({ config: { cairn: { pow: { ...pow, transition: { height: 3, engine: 'bft' } } } } })
const endless = parsePowConfig({ config: { cairn: { pow } } })

describe('PoW engine: the transition height', () => {
  it('reads and writes the fork-schedule entry, and refuses a malformed one', () => {
    expect(ending.transition).toEqual({ height: 3n, engine: 'bft' })
    expect(powConfigJson(ending).transition).toEqual({ height: 3, engine: 'bft' })
    expect(endless.transition).toBeUndefined()
    for (const bad of [{ height: 0, engine: 'bft' }, { height: 5, engine: 'dev' }, { height: 5 }]) {
      expect(() => parsePowConfig({ config: { cairn: { pow: { transition: bad } } } })).toThrow(/transition/)
    }
  })

  it('hands out no work for the transition height, and refuses a block mined there anyway', async () => {
    const a = await powSetup({ params: ending, genesis: testGenesis(ending) })
    const b = await powSetup({ params: endless, genesis: testGenesis(endless) })
    expect(b.chain.genesisBlock.hash()).toEqual(a.chain.genesisBlock.hash())
    const mined = [await mineVia(a), await mineVia(a)]
    const err = await cairnError(a.engine.getWork())
    expect(err.code).toBe(PowErrorCode.AFTER_TRANSITION)
    expect(err.message).toMatch(/runs bft from block 3/)
    // b never heard of the transition: it takes a's blocks and mines block 3
    b.clock.now = a.clock.now
    for (const blk of mined) await b.chain.processBlock(blk.serialize(), { source: 'gossip', peer: 'a' })
    const late = await mineVia(b)
    expect(late.header.number).toBe(3n)
    a.clock.now = b.clock.now
    const r = await a.chain.processBlock(late.serialize(), { source: 'gossip', peer: 'b' })
    expect(r.status).toBe('error')
    if (r.status === 'error') {
      expect(r.error.code).toBe(PowErrorCode.AFTER_TRANSITION)
      expect(r.error.penalize).toBe(true)
    }
    expect(a.chain.head.header.number).toBe(2n)
    expect(await a.chain.getBlock(late.hash())).toBeUndefined()
  })

  it('its mining threads stop at the last proof-of-work block', async () => {
    const s = await powSetup({ params: ending, genesis: testGenesis(ending), mine: true, threads: 1, recommitMs: 100 })
    await until(() => s.chain.head.header.number >= 2n, 20_000, 'the last proof-of-work block')
    await new Promise((r) => setTimeout(r, 1500))
    expect(s.chain.head.header.number).toBe(2n)
  }, 60_000)
})
