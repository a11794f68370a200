/**
 * The gas limit of the next block given the parent's and a target: geth's `core.CalcGasLimit`.
 * Each block moves at most `parent / 1024 - 1` toward the target (strictly inside Ethereum's
 * 1/1024 bound, which every block import checks), never below 5,000.
 */
const MIN_GAS_LIMIT = 5000n

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
