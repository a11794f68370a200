/**
 * A system call: a message from the system address (`0xff…fe`, EIP-4788's SYSTEM_ADDRESS) into a
 * system contract, run inside the block after its transactions, the same way when producing and
 * when importing (geth's `ProcessBeaconBlockRoot`, BNB's `systemTx`, Cosmos's `EndBlock`). It pays
 * no gas and is not a transaction; the system address keeps no nonce and no balance (its account is
 * put back as it was, or deleted, afterwards). `value` is minted: the new coins a block issues.
 *
 * A system call that fails is a broken chain (the contracts are written never to revert on a state
 * users can reach): it throws, and the block cannot be built or imported.
 *
 * Each call is a message of its own, as geth's (which finalises the state after each): EIP-2200's
 * "original" storage values, which SSTORE's gas and refunds are measured from, are those at its
 * start. Sharing them with the block's last transaction or the previous system call made a call
 * that restores a slot another call cleared trap "refund exhausted" (test/staking/system-call-refund.test.ts).
 */
import { bytesToHex, CairnError } from '@cairn/utils'
import type { EVMResult } from '@ethereumjs/evm'
import { Address } from '@ethereumjs/util'
import type { VM } from '@ethereumjs/vm'
import { ConsensusErrorCode } from '../errors.ts'

/** EIP-4788's system address: the caller of every system call. */
export const SYSTEM_CALLER = new Uint8Array(20).fill(0xff)
SYSTEM_CALLER[19] = 0xfe

/** The gas a system call may use (as EIP-4788's and EIP-7002's calls). */
export const SYSTEM_CALL_GAS = 30_000_000n

/** The block fields a system call sees (`block.number`, `block.timestamp`, `block.coinbase`). */
export interface SystemBlock {
  number: bigint
  timestamp: bigint
  coinbase: Uint8Array
  gasLimit?: bigint
}

export interface SystemCallResult {
  returnValue: Uint8Array
  logs: readonly [address: Uint8Array, topics: Uint8Array[], data: Uint8Array][]
  /** The gas the call used, of its `SYSTEM_CALL_GAS`. */
  gasUsed: bigint
}

/** Runs `data` against `to` from the system address, minting `value` into the call. */
export async function systemCall(
  vm: VM,
  block: SystemBlock,
  to: Uint8Array,
  data: Uint8Array,
  value = 0n,
  isStatic = false,
): Promise<SystemCallResult> {
  const caller = new Address(SYSTEM_CALLER)
  const before = await vm.stateManager.getAccount(caller)
  vm.stateManager.originalStorageCache.clear()
  const res: EVMResult = await vm.evm.runCall({
    caller,
    origin: caller,
    to: new Address(to),
    data,
    value,
    gasLimit: SYSTEM_CALL_GAS,
    skipBalance: true,
    skipNonceIncrement: true,
    isStatic,
    block: evmBlock(block) as never,
  })
  vm.stateManager.originalStorageCache.clear()
  if (before === undefined) await vm.stateManager.deleteAccount(caller)
  else await vm.stateManager.putAccount(caller, before)
  const err = res.execResult.exceptionError
  if (err !== undefined) {
    throw new CairnError(
      ConsensusErrorCode.STAKING_SYSTEM_CALL_FAILED,
      `system call to ${bytesToHex(to)} (selector ${bytesToHex(data.subarray(0, 4))}) failed at block ${block.number}: ${err.error} ${bytesToHex(res.execResult.returnValue)}`,
      {
        fault: 'internal',
        // the revert data, for a caller that can say more (the genesis builder decodes InvalidParams)
        meta: { returnValue: bytesToHex(res.execResult.returnValue) },
        hint: 'the staking system contracts must never revert in a system call: this is a bug in them or a genesis without them',
      },
    )
  }
  return {
    returnValue: res.execResult.returnValue,
    logs: (res.execResult.logs ?? []) as SystemCallResult['logs'],
    gasUsed: res.execResult.executionGasUsed,
  }
}

/** The block object the EVM reads `NUMBER`, `TIMESTAMP`, `COINBASE`… from. */
function evmBlock(b: SystemBlock): unknown {
  return {
    header: {
      number: b.number,
      timestamp: b.timestamp,
      coinbase: new Address(b.coinbase),
      gasLimit: b.gasLimit ?? 0n,
      difficulty: 0n,
      prevRandao: new Uint8Array(32),
      mixHash: new Uint8Array(32),
      baseFeePerGas: 0n,
      getBlobGasPrice: () => 0n,
    },
  }
}
