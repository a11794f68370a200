// Uniswap V2 pools for the strategy tests: token i at address i, pool i at 0xc000 + i, 0.3% fee.
import type { Address, PoolInfo } from '../src/graph/token-graph.ts'
import { UNISWAP_V2_FEE } from '../src/math/v2.ts'

export const tok = (i: number) => `0x${i.toString(16).padStart(40, '0')}` as Address
export const poolAddr = (i: number) => `0x${(0xc000 + i).toString(16).padStart(40, '0')}` as Address
export const pool = (i: number, a: number, b: number, r0: bigint, r1: bigint): PoolInfo => ({
  address: poolAddr(i),
  token0: tok(a),
  token1: tok(b),
  fee: UNISWAP_V2_FEE,
  reserve0: r0,
  reserve1: r1,
})
export const E21 = 10n ** 21n
