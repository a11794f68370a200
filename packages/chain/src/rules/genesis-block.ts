import { type Block, createBlock } from '@ethereumjs/block'
import type { Common } from '@ethereumjs/common'
import { Account, createAddressFromString } from '@ethereumjs/util'
import type { StateDB } from '../state/state-db.ts'
import { newStateManager } from '../state/state-manager.ts'
import type { GenesisSpec } from './genesis.ts'

/**
 * Writes the genesis allocation into the state (pending in `stateDB`'s overlay) and returns the
 * genesis block. The caller commits or discards the overlay.
 */
export async function buildGenesisBlock(spec: GenesisSpec, common: Common, stateDB: StateDB): Promise<Block> {
  // The header has the fields of the fork at genesis (as geth's Genesis.ToBlock): a base fee from
  // London, withdrawals root from Shanghai, blob fields and beacon root from Cancun, requests hash
  // from Prague; @ethereumjs fills the defaults of those not given.
  const state = newStateManager(common, stateDB, undefined)
  for (const [addr, acc] of spec.alloc) {
    const address = createAddressFromString(addr)
    await state.putAccount(address, new Account(acc.nonce, acc.balance))
    if (acc.code) await state.putCode(address, acc.code)
    for (const [k, v] of acc.storage) await state.putStorage(address, k, v)
  }
  const stateRoot = await state.getStateRoot()
  return createBlock(
    {
      header: {
        number: 0n,
        gasLimit: spec.gasLimit,
        ...(spec.baseFeePerGas !== undefined ? { baseFeePerGas: spec.baseFeePerGas } : {}),
        ...(common.isActivatedEIP(4844) ? { excessBlobGas: spec.excessBlobGas, blobGasUsed: spec.blobGasUsed } : {}),
        ...(spec.parentBeaconBlockRoot ? { parentBeaconBlockRoot: spec.parentBeaconBlockRoot } : {}),
        ...(spec.requestsHash ? { requestsHash: spec.requestsHash } : {}),
        timestamp: spec.timestamp,
        extraData: spec.extraData,
        difficulty: spec.difficulty,
        coinbase: spec.coinbase,
        mixHash: spec.mixHash,
        nonce: bigToNonce(spec.nonce),
        stateRoot,
      },
      ...(common.isActivatedEIP(4895) ? { withdrawals: [] } : {}),
    },
    { common },
  )
}

function bigToNonce(n: bigint): Uint8Array {
  const out = new Uint8Array(8)
  new DataView(out.buffer).setBigUint64(0, n)
  return out
}
