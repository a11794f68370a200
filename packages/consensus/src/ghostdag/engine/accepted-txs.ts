/**
 * Option 2 of docs/consensus/ghostdag.md: every chain block is a plain Ethereum block whose body
 * starts with the transactions it *accepts* from its mergeset, then its own new ones. The accepted
 * prefix is derived, never chosen: the mergeset's blocks other than the selected parent, in
 * consensus order (blues and reds), each contributing its own new transactions (its body past its
 * own accepted prefix), each run in turn on the parent's state under the block's header and kept
 * when it runs — skipped (DagExecutor's skip rule) when the EVM refuses it: a nonce already used
 * (the same transaction executed on the chain already, or a conflicting one), a nonce ahead, a
 * balance that no longer covers it, or no gas left in the block. The derivation runs inside a
 * state checkpoint that is reverted, so the block's own execution then runs the same prefix for
 * real; a producer builds from it, an importer compares the body with it.
 */
import type { BlockHeader } from '@ethereumjs/block'
import { createBlock } from '@ethereumjs/block'
import type { StateManagerInterface } from '@ethereumjs/common'
import type { TypedTransaction } from '@ethereumjs/tx'
import { runTx, type VM } from '@ethereumjs/vm'
import type { BlockHash } from '../hash.ts'

/** A candidate of the accepted prefix: a merged block's own new transaction. */
export interface Carried {
  tx: TypedTransaction
  /** The DAG block that carried it. */
  carrier: BlockHash
}

/** The header fields the derivation runs under (the same while building and importing). */
export interface DerivationHeader {
  number: bigint
  timestamp: bigint
  coinbase: Uint8Array
  gasLimit: bigint
  baseFeePerGas?: bigint
}

const MIN_TX_GAS = 21_000n

/** The candidates that the block accepts, in order (see the file's header). */
export async function deriveAccepted(
  candidates: readonly Carried[],
  header: DerivationHeader,
  ctx: { vm: VM; state: StateManagerInterface },
): Promise<Carried[]> {
  if (candidates.length === 0) return []
  const block = createBlock(
    {
      header: {
        number: header.number,
        timestamp: header.timestamp,
        coinbase: header.coinbase,
        gasLimit: header.gasLimit,
        ...(header.baseFeePerGas !== undefined ? { baseFeePerGas: header.baseFeePerGas } : {}),
      },
    },
    { common: ctx.vm.common, skipConsensusFormatValidation: true },
  )
  const out: Carried[] = []
  let gasUsed = 0n
  await ctx.state.checkpoint()
  try {
    for (const c of candidates) {
      const left = header.gasLimit - gasUsed
      if (left < MIN_TX_GAS) break
      if (c.tx.gasLimit > left) continue
      try {
        const r = await runTx(ctx.vm, { tx: c.tx, block, skipBlockGasLimitValidation: true })
        gasUsed += r.totalGasSpent
        out.push(c)
      } catch {
        // Refused (nonce, balance, fee, intrinsic gas): runTx reverted its own checkpoint.
      }
    }
  } finally {
    await ctx.state.revert()
  }
  return out
}

/** The derivation header of a block being imported. */
export function derivationHeaderOf(h: BlockHeader): DerivationHeader {
  return {
    number: h.number,
    timestamp: h.timestamp,
    coinbase: h.coinbase.bytes,
    gasLimit: h.gasLimit,
    ...(h.baseFeePerGas !== undefined ? { baseFeePerGas: h.baseFeePerGas } : {}),
  }
}
