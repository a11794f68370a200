// Proof of stake in the in-process BFT network: the engines' endBlock calls the staking system
// contract (rewards by the parent's certificate, slashes by the block's evidence, the epoch's set)
// and the set every engine uses at H+2 is the contract's at H. Checked on every node's chain.
import { STAKING_ADDRESS, staking, stakingAbi } from '@cairn/contracts'
import { bytesToHex } from '@cairn/utils'
import type { Block } from '@ethereumjs/block'
import { type Abi, encodeFunctionData, type Hex } from 'viem'
import { afterEach, describe, expect, it } from 'vitest'
import { KEYS, transfer } from '../../../chain/test/helpers.ts'
import {
  decodeBftExtra,
  duplicateVoteEvidence,
  MsgType,
  setFollowsContract,
  signDigest,
  voteDigest,
} from '../../src/index.ts'
import { BftNetwork, type BftNode, validatorKey } from '../harness/bft-network.ts'
import { contractSetKey, engineSetKey, readStaking } from './read-staking.ts'

let net: BftNetwork | undefined
afterEach(async () => {
  await net?.stop()
  net = undefined
})

const addr = (i: number) => net?.nodes[i]?.engine.address as Uint8Array

/** A read of the staking contract in the state after `block` on `node`'s chain. */

function engineSet(node: BftNode, height: number): string[] {
  return node.engine
    .validatorsAt(height)
    .validators.map((v) => bytesToHex(v.address).toLowerCase())
    .sort()
}

/**
 * Every node: the contract's set after block h is the engine's set of h + 2 (addresses and
 * powers), for h in 1..head-2 (the set rule of src/staking/invariants.ts).
 */
async function setsAgree(node: BftNode): Promise<void> {
  const head = Number(node.chain.head.header.number)
  const contract = new Map<number, string>()
  for (let h = 1; h <= head - 2; h++)
    contract.set(h, await contractSetKey(node, (await node.chain.getBlockByNumber(BigInt(h))) as Block))
  const mismatches = setFollowsContract(
    3,
    head,
    (h) => engineSetKey(node, h),
    (h) => contract.get(h),
  )
  expect(mismatches, `node ${node.index}`).toEqual([])
}

describe('staking in the BFT engine', () => {
  it('a validator that stakes with createValidator joins the set at the next epoch and signs commits', async () => {
    // Five keyed nodes, four in the genesis set: node 4 joins by staking.
    net = await BftNetwork.create({
      validators: 5,
      genesisValidators: 4,
      staking: { params: ['staking.epochLength=4'] },
    })
    await net.start()
    expect(await net.runUntil(() => net?.nodes.every((n) => n.chain.head.header.number >= 2n) ?? false)).toBe(true)
    const n0 = net.nodes[0] as BftNode
    const data = Buffer.from(
      encodeFunctionData({
        abi: staking.abi as Abi,
        functionName: 'createValidator',
        args: [bytesToHex(addr(4)), 1000, 2000, 100, 10n ** 18n, 'node 4'],
      }).slice(2),
      'hex',
    )
    const tx = transfer(n0.chain.common, KEYS[1] as Uint8Array, 0n, STAKING_ADDRESS as Hex, 5n * 10n ** 18n, {
      data,
      gasLimit: 2_000_000n,
    })
    for (const n of net.nodes) await n.pool.add(tx, { source: 'local' })
    const joined = () => engineSet(n0, Number(n0.chain.head.header.number)).includes(bytesToHex(addr(4)).toLowerCase())
    expect(await net.runUntil(joined, 60_000)).toBe(true)
    const from = n0.chain.head.header.number
    expect(await net.runUntil(() => n0.chain.head.header.number >= from + 4n, 60_000)).toBe(true)
    // Node 4's precommits are in the commits of the heights it is a member of.
    let signed = 0
    for (let h = from + 1n; h <= n0.chain.head.header.number; h++) {
      const cert = decodeBftExtra(((await n0.chain.getBlockByNumber(h)) as Block).header.extraData).parentCertificate
      if (cert === null) continue
      const set = n0.engine.validatorsAt(cert.height)
      const signers = cert.signatures.map((s) => bytesToHex(set.validators[s.validatorIndex]?.address as Uint8Array))
      if (signers.includes(bytesToHex(addr(4)))) signed++
    }
    expect(signed).toBeGreaterThan(0)
    for (const n of net.nodes) await setsAgree(n)
  }, 90_000)

  it('rewards the signers, keeps the coin conserved, and the engine set follows the contract', async () => {
    net = await BftNetwork.create({ validators: 4, staking: {} })
    await net.start()
    expect(await net.runUntil(() => net?.nodes.every((n) => n.chain.head.header.number >= 12n) ?? false)).toBe(true)
    const node = net.nodes[0] as BftNode
    const head = node.chain.head
    // Issuance (0.1 coin a block, devnet) was distributed: commissions and rewards outstanding grow.
    const [bonded, unbonding, rewards, commissions, pool] = (await readStaking(
      node,
      head,
      stakingAbi,
      'accounting',
    )) as bigint[]
    expect(bonded).toBe(4n * 10n ** 19n)
    expect(unbonding).toBe(0n)
    expect((rewards as bigint) + (commissions as bigint) + (pool as bigint)).toBe(
      (head.header.number * 10n ** 17n) as bigint,
    )
    expect(commissions).toBeGreaterThan(0n)
    // The contract's balance is what it accounts for, and nothing was minted elsewhere.
    const vm = await node.chain.vmAt(head.header)
    const account = await vm.stateManager.getAccount({ bytes: Buffer.from(STAKING_ADDRESS.slice(2), 'hex') } as never)
    expect(account?.balance).toBe(
      (bonded as bigint) + (unbonding as bigint) + (rewards as bigint) + (commissions as bigint) + (pool as bigint),
    )
    // Late precommits join the certificate the next block carries: with no fault, every validator
    // signs (nearly) every commit, so none is counted absent for being slower than the first 2/3.
    let full = 0
    let certs = 0
    for (let h = 3n; h <= head.header.number; h++) {
      const cert = decodeBftExtra(((await node.chain.getBlockByNumber(h)) as Block).header.extraData).parentCertificate
      if (cert === null) continue
      certs++
      if (cert.signatures.length === 4) full++
    }
    expect(full).toBeGreaterThanOrEqual(certs - 1)
    for (const n of net.nodes) await setsAgree(n)
  }, 60_000)

  it('jails a validator that stops signing, and the set leaves it out two heights later', async () => {
    net = await BftNetwork.create({
      validators: 4,
      staking: { params: ['staking.signedBlocksWindow=6', 'staking.minSignedPerWindowBps=5000'] },
    })
    await net.start()
    expect(await net.runUntil(() => net?.nodes.every((n) => n.chain.head.header.number >= 3n) ?? false)).toBe(true)
    net.silent.add(3)
    const n0 = net.nodes[0] as BftNode
    const gone = () =>
      !engineSet(n0, Number(n0.chain.head.header.number) + 1).includes(bytesToHex(addr(3)).toLowerCase())
    expect(await net.runUntil(gone, 120_000)).toBe(true)
    const at = Number(n0.chain.head.header.number)
    expect(await net.runUntil(() => n0.chain.head.header.number >= BigInt(at + 4))).toBe(true)
    const v = (await readStaking(n0, n0.chain.head, stakingAbi, 'getValidator', [bytesToHex(addr(3))])) as unknown[]
    expect(v[4]).toBe(true) // jailed
    expect(v[5]).toBe(false) // not tombstoned
    // No committed block after the removal carries its precommit.
    for (let h = at + 2; h <= Number(n0.chain.head.header.number); h++) {
      const b = (await n0.chain.getBlockByNumber(BigInt(h))) as Block
      const cert = decodeBftExtra(b.header.extraData).parentCertificate
      if (cert === null) continue
      const set = n0.engine.validatorsAt(cert.height)
      const signers = cert.signatures.map((s) => bytesToHex(set.validators[s.validatorIndex]?.address as Uint8Array))
      expect(signers).not.toContain(bytesToHex(addr(3)))
    }
    for (const n of net.nodes.slice(0, 3)) await setsAgree(n)
  }, 120_000)

  it('slashes and tombstones a double-signer once, on evidence in a block', async () => {
    net = await BftNetwork.create({ validators: 4, staking: {} })
    await net.start()
    expect(await net.runUntil(() => net?.nodes.every((n) => n.chain.head.header.number >= 3n) ?? false)).toBe(true)
    const key = validatorKey(3)
    const vote = (hash: number) => {
      const v = { height: 2, round: 0, type: MsgType.PREVOTE, blockHash: new Uint8Array(32).fill(hash) }
      return { ...v, signature: signDigest(voteDigest(1337n, v), key) }
    }
    const ev = duplicateVoteEvidence(addr(3), vote(1), vote(2))
    for (const n of net.nodes) n.engine.evidence.submit(ev, Number(n.chain.head.header.number))
    const n0 = net.nodes[0] as BftNode
    const gone = () =>
      !engineSet(n0, Number(n0.chain.head.header.number) + 1).includes(bytesToHex(addr(3)).toLowerCase())
    expect(await net.runUntil(gone, 60_000)).toBe(true)
    const v = (await readStaking(n0, n0.chain.head, stakingAbi, 'getValidator', [bytesToHex(addr(3))])) as unknown[]
    expect(v[4]).toBe(true)
    expect(v[5]).toBe(true) // tombstoned
    // 5% of 10 coins slashed, once.
    expect(v[1]).toBe(95n * 10n ** 17n)
    const [, , , , , burned] = (await readStaking(n0, n0.chain.head, stakingAbi, 'accounting')) as bigint[]
    expect(burned).toBe(5n * 10n ** 17n)
    for (const n of net.nodes.slice(0, 3)) await setsAgree(n)
  }, 60_000)
})
