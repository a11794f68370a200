// The block reward is a chain parameter (`config.cairn.pow.blockReward`, default 2 ether): the
// block's builder credits it, a node importing the block credits the same (its state root
// agrees), and the per-miner reward metric counts it.
import { afterEach, describe, expect, it } from 'vitest'
import { DEFAULT_BLOCK_REWARD, parsePowConfig } from '../../src/pow/index.ts'
import { COINBASE, mineVia, powSetup, stopAllPow, testGenesis } from './pow-setup.ts'

afterEach(stopAllPow)

const pow = { powLimit: '0x207fffff', genesisBits: '0x207fffff', seal: { memoryKiB: 64, iterations: 1 } }

async function balanceOf(s: Awaited<ReturnType<typeof powSetup>>): Promise<bigint | undefined> {
  const account = await s.chain.stateAt(s.chain.head.header.stateRoot).getAccount({ bytes: COINBASE } as never)
  return account?.balance
}

describe('the block reward (a chain parameter)', () => {
  it('defaults to 2 ether', async () => {
    expect(parsePowConfig({}).blockReward).toBe(DEFAULT_BLOCK_REWARD)
    expect(DEFAULT_BLOCK_REWARD).toBe(2n * 10n ** 18n)
    const s = await powSetup()
    await mineVia(s)
    expect(await balanceOf(s)).toBe(DEFAULT_BLOCK_REWARD)
  })

  it.each([
    ['5 ether, in decimal', '5000000000000000000', 5n * 10n ** 18n, '5'],
    ['nothing (fees only)', '0x0', 0n, '0'],
  ])('pays %s to the coinbase, and an importing node agrees', async (_name, configured, wei, ether) => {
    const params = parsePowConfig({ config: { cairn: { pow: { ...pow, blockReward: configured } } } })
    expect(params.blockReward).toBe(wei)
    const genesis = testGenesis(params)
    expect((genesis.config as { cairn: { pow: { blockReward: string } } }).cairn.pow.blockReward).toBe(wei.toString())
    const a = await powSetup({ params, genesis })
    const mined = await mineVia(a)
    expect(await balanceOf(a)).toBe(wei)
    expect(await a.registry.metrics()).toMatch(
      new RegExp(`cairn_pow_rewards_ether_total\\{coinbase="0xc0c1[0-9a-f]+"\\} ${ether}\\n`),
    )
    const b = await powSetup({ params, genesis, coinbase: new Uint8Array(20).fill(1) })
    const r = await b.chain.processBlock(mined.serialize(), { source: 'gossip', peer: 'p' })
    expect(r.status).toBe('imported')
    expect(b.chain.head.header.stateRoot).toEqual(mined.header.stateRoot)
    expect(await balanceOf(b)).toBe(wei)
    // a node with the default reward computes another state root: the block is refused
    const c = await powSetup({ genesis: testGenesis(parsePowConfig({ config: { cairn: { pow } } })) })
    const refused = await c.chain.processBlock(mined.serialize(), { source: 'gossip', peer: 'p' })
    expect(refused.status).not.toBe('imported')
  })

  it('refuses a reward that is not wei', () => {
    for (const bad of ['2 ether', '-1', '1e18', `0x${'f'.repeat(65)}`]) {
      expect(() => parsePowConfig({ config: { cairn: { pow: { blockReward: bad } } } })).toThrow(/blockReward/)
    }
  })
})
