// Governance in the in-process BFT network with staking: a proposal voted by the validators'
// stake raises the block gas limit (blocks then move toward it by Ethereum's 1/1024 rule), another
// sets a minimum base fee and a longer block time (blocks carry the floor, heights slow down), and a
// scheduled upgrade stops a node that does not know it at its height while the others, told to
// skip it, go on. Every transaction is a real signed transaction through the pools.
import { GOVERNANCE_ADDRESS, governance } from '@cairn/contracts'
import { bytesToHex } from '@cairn/utils'
import { type Abi, encodeFunctionData, type Hex } from 'viem'
import { afterEach, describe, expect, it } from 'vitest'
import { KEYS, transfer } from '../../../chain/test/helpers.ts'
import { governedHeader, nextGasLimit } from '../../src/governance/governed-header.ts'
import { BftNetwork, type BftNode, validatorKey } from '../harness/bft-network.ts'

const GOV = GOVERNANCE_ADDRESS as Hex
const ABI = governance.abi as Abi
const ETHER = 10n ** 18n
const GWEI = 10n ** 9n

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

async function waitHeight(h: bigint, nodes?: BftNode[]): Promise<void> {
  const n = net as BftNetwork
  const which = nodes ?? n.nodes
  expect(await n.runUntil(() => which.every((x) => x.chain.head.header.number >= h), 120_000)).toBe(true)
}

/** Passes a proposal of `actions`: submit, every validator votes yes, tally, timelock, execute. */
async function pass(
  actions: { target: Hex; value: bigint; data: Hex }[],
  voters = 4,
  nodes?: BftNode[],
): Promise<bigint> {
  const n = net as BftNetwork
  const n0 = (nodes ?? n.nodes)[0] as BftNode
  nonces.clear()
  await send(KEYS[0] as Uint8Array, 'submitProposal', [actions, 'test', ''], 10n * ETHER)
  await waitHeight(n0.chain.head.header.number + 2n, nodes)
  for (let i = 0; i < voters; i++) await send(validatorKey(i), 'vote', [1n, 1])
  // votingPeriodBlocks = 4, timelockBlocks = 1 (the test's parameters).
  await waitHeight(n0.chain.head.header.number + 6n, nodes)
  await send(KEYS[0] as Uint8Array, 'tally', [1n])
  await waitHeight(n0.chain.head.header.number + 3n, nodes)
  await send(KEYS[0] as Uint8Array, 'execute', [1n])
  const before = n0.chain.head.header.number
  await waitHeight(before + 2n, nodes)
  return before
}

describe('governance in the BFT engine', () => {
  it('a passed proposal raises the gas limit: blocks move toward it by the 1/1024 rule', async () => {
    net = await BftNetwork.create({
      validators: 4,
      staking: { params: ['governance.votingPeriodBlocks=4', 'governance.timelockBlocks=1'] },
    })
    await net.start()
    await waitHeight(2n)
    const n0 = net.nodes[0] as BftNode
    const start = n0.chain.head.header.gasLimit
    const target = start + 1_000_000n
    const data = encodeFunctionData({
      abi: ABI,
      functionName: 'setChainParams',
      args: [{ blockGasLimit: target, minBaseFee: 0n, blockTimeMs: 1000n }],
    })
    await pass([{ target: GOV, value: 0n, data }])
    await waitHeight(n0.chain.head.header.number + 4n)
    // From the block after execution on, every block's limit is the parent's moved toward the target.
    let moved = 0
    for (let h = 2n; h <= n0.chain.head.header.number; h++) {
      const b = await n0.chain.getBlockByNumber(h)
      const p = await n0.chain.getBlockByNumber(h - 1n)
      const limit = b?.header.gasLimit as bigint
      const parent = p?.header.gasLimit as bigint
      if (limit !== parent) {
        moved++
        expect(limit).toBe(nextGasLimit(parent, target))
      }
    }
    expect(moved).toBeGreaterThanOrEqual(3)
    expect(n0.chain.head.header.gasLimit).toBeGreaterThan(start)
    // Every node has the same chain.
    const head = n0.chain.head.header.number
    for (const n of net.nodes) {
      expect(bytesToHex((await n.chain.getCanonicalHash(head - 1n)) as Uint8Array)).toBe(
        bytesToHex((await n0.chain.getCanonicalHash(head - 1n)) as Uint8Array),
      )
    }
  }, 180_000)

  it('a minimum base fee and a longer block time: blocks carry the floor, heights slow; a wrong base fee is refused', async () => {
    net = await BftNetwork.create({
      validators: 4,
      staking: { params: ['governance.votingPeriodBlocks=4', 'governance.timelockBlocks=1'] },
    })
    await net.start()
    await waitHeight(2n)
    const n0 = net.nodes[0] as BftNode
    const params = { blockGasLimit: n0.chain.head.header.gasLimit, minBaseFee: 5n * GWEI, blockTimeMs: 3000n }
    const data = encodeFunctionData({ abi: ABI, functionName: 'setChainParams', args: [params] })
    const executedAt = await pass([{ target: GOV, value: 0n, data }])
    await waitHeight(n0.chain.head.header.number + 4n)
    const head = n0.chain.head.header.number
    let floored = 0
    const gaps: bigint[] = []
    for (let h = executedAt + 3n; h <= head; h++) {
      const b = (await n0.chain.getBlockByNumber(h))?.header
      const p = (await n0.chain.getBlockByNumber(h - 1n))?.header
      if (b === undefined || p === undefined) throw new Error(`block ${h} missing`)
      expect(b.baseFeePerGas).toBe(governedHeader(p, params).baseFeePerGas)
      expect(b.baseFeePerGas).toBeGreaterThanOrEqual(5n * GWEI)
      if ((p.calcNextBaseFee() as bigint) < 5n * GWEI) floored++
      gaps.push(b.timestamp - p.timestamp)
    }
    // The base fee had decayed below 5 gwei over the empty blocks: the floor raised it.
    expect(floored).toBeGreaterThanOrEqual(1)
    // Heights start 3 s apart now (the configured block time was 1 s).
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(3n)
    // What the RPC quotes for the next block (eth_gasPrice, eth_feeHistory, estimates: nextBlockEnv)
    // is the floored base fee and the governed gas limit on every node, not EIP-1559's estimate.
    await net.settle()
    for (const node of net.nodes) {
      const env = node.engine.nextBlockEnv(node.chain.head)
      expect(env.baseFeePerGas).toBe(governedHeader(node.chain.head.header, params).baseFeePerGas)
      expect(env.gasLimit).toBe(governedHeader(node.chain.head.header, params).gasLimit)
    }
    // A block whose base fee is EIP-1559's (not raised to the floor) is refused before its transactions.
    const parent = n0.chain.head.header
    const header = {
      number: parent.number + 1n,
      timestamp: parent.timestamp + 3n,
      coinbase: parent.coinbase.bytes,
      extraData: new Uint8Array(),
      gasLimit: governedHeader(parent, params).gasLimit,
      baseFeePerGas: parent.calcNextBaseFee(),
    }
    await expect(
      n0.engine.beginBlock({
        header,
        parent,
        vm: await n0.chain.vmAt(parent),
        state: undefined as never,
      }),
    ).rejects.toThrow(/base fee .* governance's minimum 5000000000/)
  }, 180_000)

  it('a scheduled upgrade stops the node that does not know it, at its height; the others go on', async () => {
    const halts: Error[] = []
    net = await BftNetwork.create({
      validators: 4,
      staking: {
        params: ['governance.votingPeriodBlocks=4', 'governance.timelockBlocks=1'],
        hooks: (i) => (i === 3 ? { onHalt: (err) => halts.push(err) } : { skipUpgrades: ['v2'] }),
      },
    })
    await net.start()
    await waitHeight(2n)
    const n0 = net.nodes[0] as BftNode
    const n3 = net.nodes[3] as BftNode
    // Scheduled far enough ahead for the proposal to pass first (voting 4, timelock 1, and the txs).
    const upgradeAt = n0.chain.head.header.number + 24n
    const data = encodeFunctionData({ abi: ABI, functionName: 'scheduleUpgrade', args: ['v2', upgradeAt] })
    await pass([{ target: GOV, value: 0n, data }])
    expect(n0.chain.head.header.number).toBeLessThan(upgradeAt)
    const others = net.nodes.slice(0, 3)
    await waitHeight(upgradeAt + 3n, others)
    await net.run(3000)
    expect(n3.chain.head.header.number).toBe(upgradeAt - 1n)
    expect(halts.length).toBe(1)
    expect(halts[0]?.message).toContain(`UPGRADE "v2" NEEDED at height ${upgradeAt}`)
  }, 180_000)
})
