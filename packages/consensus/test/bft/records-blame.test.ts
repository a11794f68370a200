/**
 * Who is to blame when a header's validator changes differ from what this node recorded for its
 * parent (issue 66 item 5): the block, when the record agrees with this node's schedule (refused,
 * remembered bad, its sender penalised); this node, when its own record cannot apply to its own
 * schedule — a stale record left by a race here (a block executed before its header was read) is
 * no fault of the block, which must never be remembered as bad nor its honest sender penalised.
 */

import { privateKeyToAddress } from '@cairn/crypto'
import { bytesToHex } from '@cairn/utils'
import type { Block } from '@ethereumjs/block'
import { afterEach, describe, expect, it } from 'vitest'
import { bftChainRules, encodeValidatorChanges, type ValidatorChange } from '../../src/index.ts'
import { BftNetwork, type BftNode, validatorKey } from '../harness/bft-network.ts'
import { headerContext } from '../harness/chain-probes.ts'

let net: BftNetwork | undefined
afterEach(async () => {
  await net?.stop()
  net = undefined
})

const addr = (i: number) => privateKeyToAddress(validatorKey(i))
const UPDATES_KEY = (hash: Uint8Array) => `bft/validator-updates/${bytesToHex(hash)}`

/** Validators 0..4, validator 4 removed by block 3 (out from height 5). */
async function network(): Promise<BftNetwork> {
  const n = await BftNetwork.create({
    validators: 5,
    validatorUpdates: ({ header }) => (header.number === 3n ? [{ address: addr(4), power: 0n }] : undefined),
  })
  await n.start()
  expect(await n.runUntil(() => n.height(0) >= 7n)).toBe(true)
  return n
}

describe("a header's validator changes against this node's record of the parent", () => {
  it('a record that does not apply to the schedule is this node’s fault; one that does, the block’s', async () => {
    net = await network()
    const node = net.nodes[0] as BftNode
    const [parent, child] = [
      (await node.chain.getBlockByNumber(6n)) as Block,
      (await node.chain.getBlockByNumber(7n)) as Block,
    ]
    const rules = (record: ValidatorChange[]) =>
      bftChainRules({
        chainId: 1337n,
        validators: node.engine.validators,
        parentValidatorChanges: async () => record,
      })
    const ctx = headerContext(node.chain)
    // Validator 4 is out of the set of 7 already: a record removing it again is stale (a change
    // already in effect), whatever the block carries.
    await expect(
      rules([{ address: addr(4), votingPower: 0n }]).validateHeader(child.header, parent.header, ctx),
    ).rejects.toMatchObject({ code: 'CONSENSUS_BFT_RECORDS_INCONSISTENT', fault: 'transient' })
    // A record that applies and differs from what the block carries: the block is invalid.
    await expect(
      rules([{ address: addr(1), votingPower: 0n }]).validateHeader(child.header, parent.header, ctx),
    ).rejects.toMatchObject({ code: 'CONSENSUS_BFT_INVALID_HEADER', fault: 'caller' })
    await rules([]).validateHeader(child.header, parent.header, ctx)
  }, 60_000)

  it('a record that cannot be trusted nor rebuilt is refused as transient: not bad, its sender not blamed', async () => {
    net = await network()
    const node = net.nodes[0] as BftNode
    const parent = (await node.chain.getBlockByNumber(6n)) as Block
    const child = (await node.chain.getBlockByNumber(7n)) as Block
    const rules = bftChainRules({
      chainId: 1337n,
      validators: node.engine.validators,
      parentValidatorChanges: async () => [{ address: addr(4), votingPower: 0n }],
      reexecuteParent: async () => undefined,
    })
    const err = await rules.validateHeader(child.header, parent.header, headerContext(node.chain)).catch((e) => e)
    // The front door answers another domain's code by its fault: transient is `ignore`, no penalty.
    expect(err).toMatchObject({ code: 'CONSENSUS_BFT_RECORDS_INCONSISTENT', fault: 'transient' })
  }, 60_000)

  it('through the front door: a stale record of the parent is rebuilt by executing it again, and the valid child imports', async () => {
    net = await network()
    const n = net
    n.silent.add(3)
    const down = n.height(3)
    expect(await n.runUntil(() => n.height(0) >= down + 2n)).toBe(true)
    const node = await n.reopen(3)
    const source = n.nodes[0] as BftNode
    const parent = (await source.chain.getBlockByNumber(down)) as Block
    const child = (await source.chain.getBlockByNumber(down + 1n)) as Block
    // This node's record of the parent, stale (as a race of an earlier version left it): a removal
    // of validator 4, out since height 5 — a change already in effect.
    await node.chain.engineData.put(
      UPDATES_KEY(parent.hash()),
      encodeValidatorChanges([{ address: addr(4), votingPower: 0n }]),
    )
    const r = await node.chain.processBlock(child.serialize(), { source: 'sync', peer: 'p' })
    expect(r.status === 'error' ? r.error.message : r.status).toBe('imported')
    // The parent returned no updates when executed again: the stale record is gone.
    expect(await node.chain.engineData.get(UPDATES_KEY(parent.hash()))).toBeUndefined()
  }, 60_000)
})
