// A scheduled upgrade that no node knows, in the in-process BFT network with staking (issue 66):
// every node stops before the upgrade's height H on the same state — head H − 1, no block H built,
// voted on or received — and says so once (`onHalt`, the node's upgrade-info.json and log line);
// before, only the nodes that built a block at H stopped and the others hung at H − 1 saying
// nothing. Restarted with a build that goes through the upgrade, they go on from H − 1.
import { GOVERNANCE_ADDRESS, governance } from '@cairn/contracts'
import { bytesToHex } from '@cairn/utils'
import { type Abi, encodeFunctionData, type Hex } from 'viem'
import { afterEach, describe, expect, it } from 'vitest'
import { KEYS, transfer } from '../../../chain/test/helpers.ts'
import { BftNetwork, type BftNode, validatorKey } from '../harness/bft-network.ts'

const GOV = GOVERNANCE_ADDRESS as Hex
const ABI = governance.abi as Abi
const ETHER = 10n ** 18n

let net: BftNetwork | undefined
afterEach(async () => {
  await net?.stop()
  net = undefined
})

const nonces = new Map<string, bigint>()

/** Sends a governance call from `key` through every node's pool (gossip is not in the harness). */
async function send(key: Uint8Array, functionName: string, args: unknown[], value = 0n): Promise<void> {
  const n = net as BftNetwork
  const id = bytesToHex(key)
  const nonce = nonces.get(id) ?? 0n
  nonces.set(id, nonce + 1n)
  const data = Buffer.from(encodeFunctionData({ abi: ABI, functionName, args } as never).slice(2), 'hex')
  const tx = transfer((n.nodes[0] as BftNode).chain.common, key, nonce, GOV, value, { data, gasLimit: 1_000_000n })
  for (const node of n.nodes) await node.pool.add(tx, { source: 'local' })
}

async function waitHeight(h: bigint): Promise<void> {
  const n = net as BftNetwork
  expect(await n.runUntil(() => n.nodes.every((x) => x.chain.head.header.number >= h), 120_000)).toBe(true)
}

describe('an upgrade no node knows', () => {
  it('stops every node before its height, on the same block; restarted through it, they go on', async () => {
    const halts = new Map<number, Error>()
    let upgraded = false
    net = await BftNetwork.create({
      validators: 4,
      staking: {
        params: ['governance.votingPeriodBlocks=4', 'governance.timelockBlocks=1'],
        // Until `upgraded`, no node knows "v2"; then each restarts as a build that goes through it.
        // A node that halts is gone from the network, as a node process exits.
        hooks: (i) =>
          upgraded
            ? { skipUpgrades: ['v2'] }
            : {
                onHalt: (err) => {
                  halts.set(i, err)
                  net?.silent.add(i)
                },
              },
      },
    })
    await net.start()
    await waitHeight(2n)
    const n0 = net.nodes[0] as BftNode
    const upgradeAt = n0.chain.head.header.number + 20n
    const data = encodeFunctionData({ abi: ABI, functionName: 'scheduleUpgrade', args: ['v2', upgradeAt] })
    await send(KEYS[0] as Uint8Array, 'submitProposal', [[{ target: GOV, value: 0n, data }], 'v2', ''], 10n * ETHER)
    await waitHeight(n0.chain.head.header.number + 2n)
    for (let i = 0; i < 4; i++) await send(validatorKey(i), 'vote', [1n, 1])
    await waitHeight(n0.chain.head.header.number + 6n)
    await send(KEYS[0] as Uint8Array, 'tally', [1n])
    await waitHeight(n0.chain.head.header.number + 3n)
    await send(KEYS[0] as Uint8Array, 'execute', [1n])
    expect(n0.chain.head.header.number).toBeLessThan(upgradeAt - 2n)

    // Every node stops, each once, naming the upgrade and its height.
    expect(await net.runUntil(() => halts.size === 4, 120_000)).toBe(true)
    await net.run(5000)
    for (const node of net.nodes) {
      expect(node.chain.head.header.number).toBe(upgradeAt - 1n)
      expect(await node.chain.getBlockByNumber(upgradeAt)).toBeUndefined()
      expect(halts.get(node.index)?.message).toContain(`UPGRADE "v2" NEEDED at height ${upgradeAt}`)
    }
    // The same block H − 1 on every node (the decision was made on one state).
    const heads = new Set(net.nodes.map((n) => bytesToHex(n.chain.head.hash())))
    expect(heads.size).toBe(1)

    // Restarted unchanged, a node stops again at once, and builds nothing.
    halts.clear()
    net.silent.clear()
    await net.restart(0)
    expect(await net.runUntil(() => halts.has(0), 30_000)).toBe(true)
    expect(net.height(0)).toBe(upgradeAt - 1n)

    // Restarted as a build that goes through "v2": every node goes on from H − 1.
    upgraded = true
    net.silent.clear()
    for (let i = 0; i < 4; i++) await net.restart(i)
    await waitHeight(upgradeAt + 2n)
  }, 300_000)
})
