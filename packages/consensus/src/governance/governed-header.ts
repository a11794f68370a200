/**
 * The header fields governance sets with its chain parameters (`Governance.chainParams()` in the
 * parent's state): the gas limit (toward a target, within Ethereum's 1/1024 rule) and the base fee
 * (EIP-1559's, raised to a minimum). The block time is the engine's pacing, not a header field.
 */
import type { BlockHeader } from '@ethereumjs/block'
import type { ChainParams } from './params.ts'

const MIN_GAS_LIMIT = 5000n
/** The longest block time governance can set that the engine follows (an hour); longer is ignored. */
export const MAX_BLOCK_TIME_MS = 3_600_000

/**
 * The gas limit of the next block given the parent's and a target: geth's `core.CalcGasLimit`.
 * Each block moves at most `parent / 1024 - 1` toward the target (strictly inside Ethereum's
 * 1/1024 bound, which every block import checks), never below 5,000.
 */
export function nextGasLimit(parentGasLimit: bigint, target: bigint): bigint {
  const desired = target < MIN_GAS_LIMIT ? MIN_GAS_LIMIT : target
  const delta = parentGasLimit / 1024n - 1n
  let limit = parentGasLimit
  if (limit < desired) {
    limit = parentGasLimit + delta
    if (limit > desired) limit = desired
  } else if (limit > desired) {
    limit = parentGasLimit - delta
    if (limit < desired) limit = desired
  }
  return limit
}

/**
 * A block's gas limit and base fee on `parent` under `params`: the gas limit toward the target;
 * the base fee EIP-1559's from the parent, or the minimum when that is higher (absent before London).
 */
export function governedHeader(
  parent: Pick<BlockHeader, 'gasLimit' | 'baseFeePerGas' | 'calcNextBaseFee'>,
  params: Pick<ChainParams, 'blockGasLimit' | 'minBaseFee'>,
): { gasLimit: bigint; baseFeePerGas?: bigint } {
  const gasLimit = nextGasLimit(parent.gasLimit, params.blockGasLimit)
  if (parent.baseFeePerGas === undefined) return { gasLimit }
  const eip1559 = parent.calcNextBaseFee()
  return { gasLimit, baseFeePerGas: eip1559 > params.minBaseFee ? eip1559 : params.minBaseFee }
}
