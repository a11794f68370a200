// `--no-mining` (config `mining = false`): the node serves its chain and takes transactions into the
// pool but produces no block of its own (what the rpc-compat suite needs: the head stays at the
// imported chain's last block); blocks come only on demand (evm_mine on a dev chain).
import { silentLogger } from '@cairn/utils'
import { Command } from 'commander'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { addNodeOptions, nodeConfigInputs } from '../../src/cli/node-options.ts'
import { loadConfig } from '../../src/config/load.ts'
import { type StartedNode, startNode } from '../../src/node.ts'
import { rpc } from '../cli/run-cli.ts'

function configFrom(argv: string[], env: Record<string, string> = {}) {
  const cmd = addNodeOptions(new Command('start').exitOverride())
  cmd.parse(argv, { from: 'user' })
  return loadConfig(nodeConfigInputs(cmd.opts(), env))
}

describe('the mining setting', () => {
  it('is on by default; --no-mining turns it off; without the flag the environment decides', () => {
    expect(configFrom([]).mining).toBe(true)
    expect(configFrom(['--no-mining']).mining).toBe(false)
    expect(configFrom([], { CAIRN_MINING: 'false' }).mining).toBe(false)
  })
})

describe('a node with mining off', () => {
  let node: StartedNode
  beforeAll(async () => {
    const config = loadConfig({
      flags: { dev: true, ephemeral: true, mining: false, 'http.port': 0 },
      env: {},
    })
    node = await startNode(config, { logger: silentLogger })
  })
  afterAll(async () => {
    await node?.close()
  })

  it('keeps a transaction pending until a block is asked for, then mines it in block 1', async () => {
    const added = new Promise<void>((resolve) => {
      const off = node.pool.events.on('added', () => {
        off()
        resolve()
      })
    })
    const hash = await rpc(node.url, 'eth_sendTransaction', [
      { from: node.accounts[0]?.address, to: '0x000000000000000000000000000000000000beef', value: '0x1' },
    ])
    await added
    expect(await rpc(node.url, 'txpool_status', [])).toEqual({ pending: '0x1', queued: '0x0' })
    // A producing engine seals on the pool's `added` event (before this request arrives): evm_mine
    // would then make block 2. Without production, evm_mine's block is the first, and it holds the tx.
    await rpc(node.url, 'evm_mine', [])
    expect(await rpc(node.url, 'eth_blockNumber', [])).toBe('0x1')
    const receipt = (await rpc(node.url, 'eth_getTransactionReceipt', [hash])) as { blockNumber: string }
    expect(receipt.blockNumber).toBe('0x1')
  })

  it('/ready has no head-freshness check (pending transactions do not make a stuck head)', async () => {
    const body = (await (await fetch(`${node.url}/ready`)).json()) as { checks: { name: string }[] }
    expect(body.checks.map((c) => c.name).sort()).toEqual(['db', 'rpc'])
  })
})
