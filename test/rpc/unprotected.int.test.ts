// Pre-EIP-155 transactions carry no chain id: one signed anywhere replays here. Refused over RPC
// unless the node is a dev chain or the operator opts in, as geth's --rpc.allow-unprotected-txs.
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, describe, expect, it } from 'vitest'
import { call, type StartedNode, startDevNode } from './live-node.ts'

const account = privateKeyToAccount('0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80')
const BEEF = '0x000000000000000000000000000000000000bEEF'
const sign = (chainId?: number) =>
  account.signTransaction({
    type: 'legacy',
    to: BEEF,
    value: 1n,
    nonce: 0,
    gas: 21_000n,
    gasPrice: 2_000_000_000n,
    ...(chainId !== undefined ? { chainId } : {}),
  })

const nodes: StartedNode[] = []
afterAll(async () => {
  for (const n of nodes) await n.close()
})
async function node(flags: Record<string, unknown>) {
  const n = await startDevNode({}, { flags })
  nodes.push(n)
  return n
}

describe('unprotected (pre-EIP-155) transactions', () => {
  it('are refused outside the dev profile, with the way to allow them', async () => {
    const n = await node({ profile: 'test' })
    const r = await call(n.url, 'eth_sendRawTransaction', [await sign()])
    expect(r.error).toEqual({ code: -32000, message: 'only replay-protected (EIP-155) transactions allowed over RPC' })
    expect((await call(n.url, 'txpool_status')).result).toEqual({ pending: '0x0', queued: '0x0' })
    // A protected one is fine.
    expect((await call(n.url, 'eth_sendRawTransaction', [await sign(1337)])).result).toMatch(/^0x[0-9a-f]{64}$/)
  })

  it('are accepted with rpc.allowUnprotectedTxs, and on a dev chain', async () => {
    for (const flags of [{ profile: 'test', 'rpc.allowUnprotectedTxs': true }, {}]) {
      const n = await node(flags)
      expect((await call(n.url, 'eth_sendRawTransaction', [await sign()])).result, JSON.stringify(flags)).toMatch(
        /^0x[0-9a-f]{64}$/,
      )
    }
  })
})
