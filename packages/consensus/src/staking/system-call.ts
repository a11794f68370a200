/**
 * A system call: a message from the system address (`0xff…fe`, EIP-4788's SYSTEM_ADDRESS) into a
 * system contract, run inside the block after its transactions, the same way when producing and
 * when importing (geth's `ProcessBeaconBlockRoot`, BNB's `systemTx`, Cosmos's `EndBlock`). It pays
 * no gas and is not a transaction; the system address keeps no nonce and no balance (its account is
 * put back as it was, or deleted, afterwards). `value` is minted: the new coins a block issues.
 *
 * The call itself is the chain's one `systemCall` (@cairn/chain); here, a staking system call that
 * fails is a broken chain (the contracts are written never to revert on a state users can reach):
 * it throws, and the block cannot be built or imported.
 */
import {
  systemCall as chainSystemCall,
  SYSTEM_CALL_GAS,
  SYSTEM_CALLER,
  type SystemBlock,
  type SystemCallResult,
} from '@cairn/chain'
import { bytesToHex, CairnError } from '@cairn/utils'
import type { VM } from '@ethereumjs/vm'
import { ConsensusErrorCode } from '../errors.ts'

export { SYSTEM_CALL_GAS, SYSTEM_CALLER, type SystemBlock, type SystemCallResult }

/** Runs `data` against `to` from the system address, minting `value` into the call; throws when it fails. */
export async function systemCall(
  vm: VM,
  block: SystemBlock,
  to: Uint8Array,
  data: Uint8Array,
  value = 0n,
  isStatic = false,
): Promise<SystemCallResult> {
  const out = await chainSystemCall(vm, block, to, data, value, isStatic)
  if (out.error !== undefined) {
    throw new CairnError(
      ConsensusErrorCode.STAKING_SYSTEM_CALL_FAILED,
      `system call to ${bytesToHex(to)} (selector ${bytesToHex(data.subarray(0, 4))}) failed at block ${block.number}: ${out.error} ${bytesToHex(out.returnValue)}`,
      {
        fault: 'internal',
        // the revert data, for a caller that can say more (the genesis builder decodes InvalidParams)
        meta: { returnValue: bytesToHex(out.returnValue) },
        hint: 'the staking system contracts must never revert in a system call: this is a bug in them or a genesis without them',
      },
    )
  }
  const { error: _, ...result } = out
  return result
}
