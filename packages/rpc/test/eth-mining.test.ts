import { CairnError, silentLogger } from '@cairn/utils'
import { describe, expect, it } from 'vitest'
import { openChain } from '../../chain/test/helpers.ts'
import { ALL_METHODS, type RpcContext, RpcDispatcher, type RpcMining } from '../src/index.ts'
import { testContext } from './test-context.ts'

type Answer = { result?: unknown; error?: { code: number; message: string; data?: { code?: string } } }

async function rpcWith(mining: RpcMining | undefined) {
  const chain = await openChain()
  const ctx: RpcContext = testContext({ chain, ...(mining ? { mining } : {}) })
  const d = new RpcDispatcher({ dev: false }, { ctx, methods: ALL_METHODS, metrics: null, logger: silentLogger })
  return async (method: string, params: unknown[] = []) =>
    (await d.handle({ jsonrpc: '2.0', id: 1, method, params })) as Answer
}

/** A work API that records what it was given. */
function fakeMining(): RpcMining & { calls: unknown[][] } {
  const calls: unknown[][] = []
  return {
    calls,
    getWork: async () => [`0x${'11'.repeat(32)}`, `0x${'22'.repeat(32)}`, `0x${'33'.repeat(32)}`, '0x5'],
    submitWork: async (nonce, hash, mix) => {
      calls.push(['submitWork', nonce, hash, mix])
      if (hash[0] === 0xee) {
        throw new CairnError('CONSENSUS_POW_STALE_WORK', 'stale', {
          fault: 'caller',
          meta: { data: { code: 'CONSENSUS_POW_STALE_WORK' } },
        })
      }
      return true
    },
    submitHashrate: (rate, id) => {
      calls.push(['submitHashrate', rate, id])
      return true
    },
    hashRate: () => 1234n,
    isMining: () => false,
    coinbase: () => Uint8Array.from({ length: 20 }, () => 0xab),
    acceptBranch: async () => ({ number: 7n, canonical: false }),
  }
}

describe('the work methods', () => {
  it('answer as Anvil without proof of work', async () => {
    const rpc = await rpcWith(undefined)
    expect((await rpc('eth_mining')).result).toBe(true)
    expect((await rpc('eth_hashrate')).result).toBe('0x0')
    expect((await rpc('eth_coinbase')).result).toBe(`0x${'00'.repeat(20)}`)
    for (const m of ['eth_getWork', 'eth_submitWork', 'eth_submitHashrate']) {
      expect((await rpc(m, [])).error?.code, m).toBe(-32603)
    }
  })

  it('call the engine’s work API with geth’s params, and carry a refusal’s code', async () => {
    const mining = fakeMining()
    const rpc = await rpcWith(mining)
    expect((await rpc('eth_getWork')).result).toEqual([
      `0x${'11'.repeat(32)}`,
      `0x${'22'.repeat(32)}`,
      `0x${'33'.repeat(32)}`,
      '0x5',
    ])
    expect((await rpc('eth_mining')).result).toBe(false)
    expect((await rpc('eth_hashrate')).result).toBe('0x4d2')
    expect((await rpc('eth_coinbase')).result).toBe(`0x${'ab'.repeat(20)}`)
    const ok = await rpc('eth_submitWork', ['0x0000000000000001', `0x${'01'.repeat(32)}`, `0x${'02'.repeat(32)}`])
    expect(ok.result).toBe(true)
    const stale = await rpc('eth_submitWork', ['0x0000000000000001', `0x${'ee'.repeat(32)}`, `0x${'02'.repeat(32)}`])
    expect(stale.error?.code).toBe(-32000)
    expect(stale.error?.data?.code).toBe('CONSENSUS_POW_STALE_WORK')
    const bad = await rpc('eth_submitWork', ['0x01', `0x${'01'.repeat(32)}`, `0x${'02'.repeat(32)}`])
    expect(bad.error?.code).toBe(-32602)
    expect((await rpc('eth_submitHashrate', ['0x10', `0x${'03'.repeat(32)}`])).result).toBe(true)
    expect(mining.calls.at(-1)?.[1]).toBe(16n)
    expect((await rpc('eth_submitHashrate', [`0x1${'0'.repeat(16)}`, `0x${'03'.repeat(32)}`])).error?.code).toBe(-32602)
  })
})
