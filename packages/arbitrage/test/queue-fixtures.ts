// Opportunities for the queue tests.
import { opportunityId, type QueuedOpportunity } from '../src/queue/message.ts'
import type { Opportunity } from '../src/strategy/search.ts'

const addr = (n: number) => `0x${n.toString(16).padStart(40, '0')}` as const

export function queued(i: number): QueuedOpportunity {
  const o: Opportunity = {
    cycle: {
      key: `${addr(i + 100)}>${addr(i + 200)}`,
      pools: [addr(i + 100), addr(i + 200)],
      tokens: [addr(1), addr(i + 2), addr(1)],
    },
    amountIn: 10n ** 18n + BigInt(i),
    amountOut: 10n ** 18n + BigInt(i) + 5n,
    grossProfit: 5n,
    gasCost: 1n,
    netProfit: 4n,
    hopOuts: [7n, 10n ** 18n + BigInt(i) + 5n],
  }
  return { id: opportunityId(BigInt(i), o), block: BigInt(i), seenAt: 1_700_000_000_000 + i, opportunity: o }
}
