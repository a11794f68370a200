// A view of the staking contract in the state after a block of a harness node, as the engine
// reads it: a static system call (the tests' and the seeded simulation's one way to read it).
import { STAKING_ADDRESS } from '@cairn/contracts'
import { bytesToHex, hexToBytes } from '@cairn/utils'
import type { Block } from '@ethereumjs/block'
import { decodeFunctionResult, encodeFunctionData, type Hex } from 'viem'
import { systemCall } from '../../src/index.ts'
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
