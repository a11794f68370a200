// Uniswap V2 constant-product math with the exact integer semantics of UniswapV2Library
// (v2-periphery/contracts/libraries/UniswapV2Library.sol): every division floors, the fee is taken
// from the input before it reaches the curve.

/**
 * A pool's swap fee as the fraction of the input that reaches the curve: Uniswap V2 keeps
 * 997/1000 (0.3%). `num < den`, both positive.
 */
export interface PoolFee {
  num: bigint
  den: bigint
}

/** Uniswap V2's fee: 0.3% of the input stays in the pool. */
export const UNISWAP_V2_FEE: PoolFee = { num: 997n, den: 1000n }

/** A fee given in basis points taken (30 → 9970/10000). */
export function feeFromBps(bps: number): PoolFee {
  return { num: BigInt(10_000 - bps), den: 10_000n }
}

/**
 * The output of a swap of `amountIn` into a pool with reserves (`reserveIn`, `reserveOut`):
 * `amountIn·γ·reserveOut / (reserveIn + amountIn·γ)`, floored, exactly as
 * `UniswapV2Library.getAmountOut` (with γ = 997/1000). Where the library reverts (no input, an
 * empty reserve) this returns 0n.
 *
 * @example
 * getAmountOut(10n ** 18n, 100n * 10n ** 18n, 200n * 10n ** 18n) // 1974316068794122597n
 */
export function getAmountOut(amountIn: bigint, reserveIn: bigint, reserveOut: bigint, fee = UNISWAP_V2_FEE): bigint {
  if (amountIn <= 0n || reserveIn <= 0n || reserveOut <= 0n) return 0n
  const amountInWithFee = amountIn * fee.num
  return (amountInWithFee * reserveOut) / (reserveIn * fee.den + amountInWithFee)
}

/**
 * The least input that buys `amountOut` (`UniswapV2Library.getAmountIn`: floor + 1). Undefined
 * when the pool cannot pay it (`amountOut >= reserveOut`) or an argument is not positive.
 */
export function getAmountIn(
  amountOut: bigint,
  reserveIn: bigint,
  reserveOut: bigint,
  fee = UNISWAP_V2_FEE,
): bigint | undefined {
  if (amountOut <= 0n || reserveIn <= 0n || reserveOut <= amountOut) return undefined
  return (reserveIn * amountOut * fee.den) / ((reserveOut - amountOut) * fee.num) + 1n
}

/** ⌊√n⌋ for n ≥ 0 (Newton's method on bigints). */
export function isqrt(n: bigint): bigint {
  if (n < 0n) return 0n
  if (n < 2n) return n
  // start at or above the root: the float root (rounded up a little) while n fits a double,
  // else 2^ceil(bits/2); Newton then falls monotonically to the floor
  let x: bigint
  if (n < 1n << 1000n) x = BigInt(Math.ceil(Math.sqrt(Number(n)) * (1 + 1e-12))) + 1n
  else x = 1n << BigInt(Math.ceil((n.toString(16).length * 4) / 2))
  for (;;) {
    const y = (x + n / x) >> 1n
    if (y >= x) return x
    x = y
  }
}
