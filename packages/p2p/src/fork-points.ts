import type { Chain } from '@cairn/chain'
import type { ForkPoints } from './fork-id.ts'

/** The fork id inputs of a chain: its genesis and the activation points of its fork schedule. */
export function forkPointsOf(chain: Chain): ForkPoints {
  const blocks: bigint[] = []
  const timestamps: bigint[] = []
  for (const f of chain.genesis.schedule.forks) {
    if (f.block !== undefined) blocks.push(f.block)
    if (f.timestamp !== undefined) timestamps.push(f.timestamp)
  }
  return { genesisHash: chain.genesisBlock.hash(), genesisTimestamp: chain.genesis.timestamp, blocks, timestamps }
}
