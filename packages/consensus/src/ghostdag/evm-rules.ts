/**
 * The EVM as `TxRules` (run by `DagExecutor.moveToAsync`): a merged block's transaction is checked
 * as the EVM would refuse it — its nonce against the sender's (`nonce-used`, `nonce-gap`), the
 * sender's balance against its most expensive case, gas limit × max fee + value
 * (`insufficient-funds`) — and skipped instead of failing the chain block; any other refusal of
 * `runTx` (intrinsic gas, a fee under the base fee, a bad signature) is `invalid`. A transaction
 * that passes is run by `@ethereumjs/vm` under the executing chain block's header: it is applied
 * even when its execution reverts (its nonce and gas are spent), with `reverted` set.
 *
 * The state is a `MerkleStateManager`: `copy` is its `shallowCopy` (the same trie database at the
 * same root; `runTx` flushes its caches when it commits, so the copy sees every write).
 */
import type { BlockHeader } from '@ethereumjs/block'
import { createBlock } from '@ethereumjs/block'
import type { Common } from '@ethereumjs/common'
import type { MerkleStateManager } from '@ethereumjs/statemanager'
import type { TypedTransaction } from '@ethereumjs/tx'
import { createVM, runTx, type VM } from '@ethereumjs/vm'
import type { ApplyContext, TxOutcome, TxRules } from './execution.ts'
import type { BlockHash } from './hash.ts'

export interface EvmRulesModules {
  common: Common
  /** The header a chain block executes its mergeset under (number, timestamp, coinbase, base fee, gas limit). */
  headerOf: (chainBlock: BlockHash) => BlockHeader
}

/** The most a transaction can cost its sender: what `runTx` checks the balance against. */
function maxCost(tx: TypedTransaction): bigint {
  const fee = 'maxFeePerGas' in tx ? tx.maxFeePerGas : tx.gasPrice
  return tx.gasLimit * fee + tx.value
}

export function evmRules(modules: EvmRulesModules): TxRules<TypedTransaction, MerkleStateManager> {
  const vms = new WeakMap<MerkleStateManager, Promise<VM>>()
  const vmOf = (state: MerkleStateManager) => {
    let vm = vms.get(state)
    if (!vm) {
      vm = createVM({ common: modules.common, stateManager: state })
      vms.set(state, vm)
    }
    return vm
  }
  return {
    async apply(state: MerkleStateManager, tx: TypedTransaction, ctx: ApplyContext): Promise<TxOutcome> {
      if (!tx.isSigned()) return { applied: false, reason: 'invalid' }
      const sender = await state.getAccount(tx.getSenderAddress())
      const nonce = sender?.nonce ?? 0n
      if (tx.nonce < nonce) return { applied: false, reason: 'nonce-used' }
      if (tx.nonce > nonce) return { applied: false, reason: 'nonce-gap' }
      if ((sender?.balance ?? 0n) < maxCost(tx)) return { applied: false, reason: 'insufficient-funds' }
      const block = createBlock({ header: modules.headerOf(ctx.chainBlock) }, { common: modules.common })
      try {
        const r = await runTx(await vmOf(state), { tx, block, skipBlockGasLimitValidation: true })
        return { applied: true, gasUsed: r.totalGasSpent, reverted: r.execResult.exceptionError !== undefined }
      } catch {
        // runTx reverts its checkpoint before throwing: the state is as it was.
        return { applied: false, reason: 'invalid' }
      }
    },
    copy(state: MerkleStateManager): MerkleStateManager {
      return state.shallowCopy()
    },
  }
}
