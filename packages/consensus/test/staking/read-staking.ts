// A view of the staking contract in the state after a block of a harness node, as the engine
// reads it: a static system call (the tests' and the seeded simulation's one way to read it), and
// what the staking invariants (src/staking/invariants.ts) compare, read that way.
import { STAKING_ADDRESS, stakingAbi } from '@cairn/contracts'
import { bytesToHex, hexToBytes } from '@cairn/utils'
import type { Block } from '@ethereumjs/block'
import { Address } from '@ethereumjs/util'
import { decodeFunctionResult, encodeFunctionData, type Hex } from 'viem'
import {
  accountingImbalance,
  accountingOf,
  type StakingAccounting,
  systemCall,
  validatorSetKey,
} from '../../src/index.ts'
import type { BftNode } from '../harness/bft-network.ts'

export async function readStaking(
  node: BftNode,
  block: Block,
  abi: readonly unknown[],
  functionName: string,
  args: unknown[] = [],
): Promise<unknown> {
  const vm = await node.chain.vmAt(block.header)
  const out = await systemCall(
    vm,
    { number: block.header.number, timestamp: block.header.timestamp, coinbase: new Uint8Array(20) },
    hexToBytes(STAKING_ADDRESS),
    hexToBytes(encodeFunctionData({ abi, functionName, args } as never)),
    0n,
    true,
  )
  return decodeFunctionResult({ abi, functionName, data: bytesToHex(out.returnValue) as Hex } as never)
}

/** The contract's `activeSet()` after `block`, as a set key (`validatorSetKey`; addresses alone with `powers: false`). */
export async function contractSetKey(node: BftNode, block: Block, opts: { powers?: boolean } = {}): Promise<string> {
  const [addrs, powers] = (await readStaking(node, block, stakingAbi, 'activeSet')) as [Hex[], bigint[]]
  return validatorSetKey(
    addrs.map((address, i) => ({ address, power: powers[i] as bigint })),
    opts,
  )
}

/** The set `node`'s engine uses at `height`, as a set key made the same way. */
export function engineSetKey(node: BftNode, height: number, opts: { powers?: boolean } = {}): string {
  return validatorSetKey(
    node.engine.validatorsAt(height).validators.map((v) => ({ address: bytesToHex(v.address), power: v.votingPower })),
    opts,
  )
}

/** The contract's accounting after `block`, and its balance's difference from it (0n when conserved). */
export async function stakingConservation(
  node: BftNode,
  block: Block,
): Promise<{ accounting: StakingAccounting; balance: bigint; imbalance: bigint }> {
  const accounting = accountingOf((await readStaking(node, block, stakingAbi, 'accounting')) as bigint[])
  const account = await node.chain.stateAfter(block.header).getAccount(new Address(hexToBytes(STAKING_ADDRESS)))
  const balance = account?.balance ?? 0n
  return { accounting, balance, imbalance: accountingImbalance(balance, accounting) }
}
