import { CairnError } from '@cairn/utils'
import { GhostdagErrorCode } from './errors.ts'
import type { BlockHash } from './hash.ts'
import type { ReachabilityService } from './reachability/reachability.ts'
import type { RelationsReader } from './store.ts'

/**
 * The blocks in the past of a new block (with parents `parents`) that are not in the past of its
 * selected parent, the selected parent excluded (Kaspa's `unordered_mergeset_without_selected_parent`):
 * a walk back from the other parents that stops at blocks the selected parent already reaches.
 */
export function unorderedMergeset(
  relations: RelationsReader,
  reachability: ReachabilityService,
  selectedParent: BlockHash,
  parents: readonly BlockHash[],
): Set<BlockHash> {
  const queue = parents.filter((p) => p !== selectedParent)
  const mergeset = new Set(queue)
  const past = new Set<BlockHash>()
  for (let head = 0; head < queue.length; head++) {
    const current = queue[head]!
    const currentParents = relations.getParents(current)
    if (!currentParents) throw new CairnError(GhostdagErrorCode.DATA_INCONSISTENCY, `no parents stored for ${current}`)
    for (const parent of currentParents) {
      if (mergeset.has(parent) || past.has(parent)) continue
      if (reachability.isDagAncestorOf(parent, selectedParent)) {
        past.add(parent)
        continue
      }
      mergeset.add(parent)
      queue.push(parent)
    }
  }
  return mergeset
}
