import { checkForkId, type ForkPoints } from '@cairn/chain'
import { bytesToHex, equalsBytes } from '@cairn/utils'
import type { Status } from './codec.ts'

/** Why a peer's status shows another chain, as a metric label and a message; undefined: same chain. */
export function statusMismatch(
  local: Status,
  points: ForkPoints,
  head: { number: bigint; timestamp: bigint },
  remote: Status,
): { reason: 'genesis' | 'chain_id' | 'fork_id'; message: string } | undefined {
  if (!equalsBytes(local.genesisHash, remote.genesisHash)) {
    return {
      reason: 'genesis',
      message: `genesis ${bytesToHex(remote.genesisHash)} differs from ${bytesToHex(local.genesisHash)}`,
    }
  }
  if (local.chainId !== remote.chainId) {
    return { reason: 'chain_id', message: `chain id ${remote.chainId} differs from ${local.chainId}` }
  }
  const why = checkForkId(points, head, remote.forkId)
  if (why !== undefined) return { reason: 'fork_id', message: why }
  return undefined
}
