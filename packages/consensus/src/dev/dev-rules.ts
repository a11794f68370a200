import { type ChainEngine, validateExtraData } from '@cairn/chain'
import { CairnError } from '@cairn/utils'
import type { BlockHeader } from '@ethereumjs/block'

/**
 * The dev chain's rules, as the import pipeline sees them: no seal (difficulty 0), nothing to
 * do before or after the transactions, the higher block wins, and every block is safe and final at once. They need no chain
 * or pool, so the chain can be opened with them before the producer (`DevEngine`) exists.
 */
export const devChainRules = {
  name: 'dev',
  async validateHeader(header: BlockHeader): Promise<void> {
    validateExtraData(header)
    if (header.difficulty !== 0n) {
      throw new CairnError(
        'CONSENSUS_INVALID_DIFFICULTY',
        `dev block ${header.number} has difficulty ${header.difficulty}, expected 0`,
        { fault: 'caller' },
      )
    }
  },
  async preferHead(candidate: BlockHeader, current: BlockHeader): Promise<boolean> {
    return candidate.number > current.number
  },
  safeNumber: (head: BlockHeader): bigint => head.number,
  finalizedNumber: (head: BlockHeader): bigint => head.number,
} satisfies ChainEngine
