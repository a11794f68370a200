import { silentLogger } from '@cairn/utils'
import { describe, expect, it } from 'vitest'
import { openChain } from '../../chain/test/helpers.ts'
import { ALL_METHODS, NO_NETWORK, RpcDispatcher, type RpcNetwork } from '../src/index.ts'
import { testContext } from './test-context.ts'

async function dispatcher(network: RpcNetwork) {
  const chain = await openChain()
  const ctx = testContext({ chain, network })
  const d = new RpcDispatcher({ dev: false }, { ctx, methods: ALL_METHODS, metrics: null, logger: silentLogger })
  return async (method: string, params: unknown[] = []) => {
    const r = (await d.handle({ jsonrpc: '2.0', id: 1, method, params })) as { result?: unknown; error?: unknown }
    if (r.error) throw new Error(JSON.stringify(r.error))
    return r.result
  }
}

describe('RpcContext.network: net_, eth_syncing and admin_ read the network slot', () => {
  it('without a network (today): no peers, not syncing, listening as before', async () => {
    const rpc = await dispatcher(NO_NETWORK)
    expect(await rpc('net_peerCount')).toBe('0x0')
    expect(await rpc('net_listening')).toBe(true)
    expect(await rpc('eth_syncing')).toBe(false)
    expect(await rpc('admin_peers')).toEqual([])
    expect(await rpc('admin_addPeer', ['/ip4/127.0.0.1/tcp/30303'])).toBe(false)
    expect(await rpc('admin_nodeInfo')).toMatchObject({ id: '', name: 'cairn/test', listenAddrs: [] })
  })

  it('answers from whatever network the node wires', async () => {
    const added: string[] = []
    const rpc = await dispatcher({
      peerCount: () => 3,
      listening: () => true,
      syncing: () => ({ startingBlock: 1n, currentBlock: 5n, highestBlock: 16n }),
      nodeInfo: () => ({ id: '12D3KooW', listenAddrs: ['/ip4/0.0.0.0/tcp/30303'] }),
      peers: () => [{ id: 'p1', remoteAddress: '10.0.0.2:30303', inbound: true }],
      addPeer: async (a) => {
        added.push(a)
        return true
      },
      removePeer: async () => true,
    })
    expect(await rpc('net_peerCount')).toBe('0x3')
    expect(await rpc('eth_syncing')).toEqual({ startingBlock: '0x1', currentBlock: '0x5', highestBlock: '0x10' })
    expect(await rpc('admin_peers')).toEqual([
      { id: 'p1', network: { remoteAddress: '10.0.0.2:30303', inbound: true } },
    ])
    expect(await rpc('admin_addPeer', ['/dns/peer/tcp/1'])).toBe(true)
    expect(added).toEqual(['/dns/peer/tcp/1'])
    expect(await rpc('admin_removePeer', ['/dns/peer/tcp/1'])).toBe(true)
  })
})
