// The parts of the Uniswap V2 ABI the engine reads (v2-core's IUniswapV2Factory / IUniswapV2Pair).
import { parseAbi, parseAbiItem } from 'viem'

export const pairCreatedEvent = parseAbiItem(
  'event PairCreated(address indexed token0, address indexed token1, address pair, uint256 count)',
)
export const syncEvent = parseAbiItem('event Sync(uint112 reserve0, uint112 reserve1)')

export const pairAbi = parseAbi([
  'function getReserves() view returns (uint112 reserve0, uint112 reserve1, uint32 blockTimestampLast)',
  'function token0() view returns (address)',
  'function token1() view returns (address)',
])
