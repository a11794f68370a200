import { CairnError } from '@cairn/utils'
import { GhostdagErrorCode } from '../errors.ts'
import type { BlockHash } from '../hash.ts'
import { type Interval, interval, intervalSize, splitExact, splitExponential } from './interval.ts'
import { isStrictChainAncestorOf, nextChainAncestor } from './queries.ts'
import type { ReachabilityStore } from './store.ts'

type IntervalOp = (i: Interval, offset: number) => Interval
const increase: IntervalOp = (i, o) => interval(i.start + o, i.end + o)
const decrease: IntervalOp = (i, o) => interval(i.start - o, i.end - o)
const increaseStart: IntervalOp = (i, o) => interval(i.start + o, i.end)
const decreaseStart: IntervalOp = (i, o) => interval(i.start - o, i.end)
const increaseEnd: IntervalOp = (i, o) => interval(i.start, i.end + o)
const decreaseEnd: IntervalOp = (i, o) => interval(i.start, i.end - o)

/** Space for a block's tree children: its interval less its own last number (it strictly contains them). */
export function childrenCapacity(store: ReachabilityStore, block: BlockHash): Interval {
  return decreaseEnd(store.getInterval(block), 1)
}

/** Unallocated space before the first tree child. */
export function remainingBefore(store: ReachabilityStore, block: BlockHash): Interval {
  const capacity = childrenCapacity(store, block)
  const first = store.getChildren(block)[0]
  return first === undefined ? capacity : interval(capacity.start, store.getInterval(first).start - 1)
}

/** Unallocated space after the last tree child (where a new child is allocated). */
export function remainingAfter(store: ReachabilityStore, block: BlockHash): Interval {
  const capacity = childrenCapacity(store, block)
  const children = store.getChildren(block)
  const last = children[children.length - 1]
  return last === undefined ? capacity : interval(store.getInterval(last).end + 1, capacity.end)
}

function overflow(what: string): CairnError {
  return new CairnError(GhostdagErrorCode.DATA_INCONSISTENCY, `reachability space exhausted: ${what}`)
}

/** Splits `children` around `pivot`. */
function splitChildren(children: readonly BlockHash[], pivot: BlockHash): [BlockHash[], BlockHash[]] {
  const i = children.indexOf(pivot)
  if (i < 0) throw new CairnError(GhostdagErrorCode.DATA_INCONSISTENCY, `${pivot} is not a tree child of its parent`)
  return [children.slice(0, i), children.slice(i + 1)]
}

/**
 * One reindex operation (Kaspa's `ReindexOperationContext`): re-allocates interval space in the
 * tree when a block's parent has none left, caching subtree sizes for this operation only. Below
 * the reindex root (which follows the selected chain, `reindexDepth` behind its tip) it takes space
 * from the slack kept along the chain instead of re-labelling everything since.
 */
export class ReindexContext {
  readonly #store: ReachabilityStore
  readonly #slack: number
  readonly #subtreeSizes = new Map<BlockHash, number>()

  constructor(store: ReachabilityStore, slack: number) {
    this.#store = store
    this.#slack = slack
  }

  #size(block: BlockHash): number {
    this.countSubtrees(block)
    return this.#subtreeSizes.get(block)!
  }

  /** Climbs from `newChild` to the first ancestor whose interval fits its subtree, and re-labels that subtree. */
  reindexIntervals(newChild: BlockHash, reindexRoot: BlockHash): void {
    let current = newChild
    for (;;) {
      if (intervalSize(this.#store.getInterval(current)) >= this.#size(current)) break
      const parent = this.#store.getParent(current)
      if (parent === undefined) throw overflow('the tree root is full')
      if (current === reindexRoot) throw overflow(`the reindex root ${reindexRoot} is full`)
      if (isStrictChainAncestorOf(this.#store, parent, reindexRoot)) {
        this.#reindexEarlierThanRoot(current, reindexRoot, parent, this.#size(current))
        return
      }
      current = parent
    }
    this.propagateInterval(current)
  }

  /** Subtree sizes under `block` (itself included), counted without recursion (the tree is deep). */
  countSubtrees(block: BlockHash): void {
    if (this.#subtreeSizes.has(block)) return
    const queue: BlockHash[] = [block]
    const counts = new Map<BlockHash, number>()
    for (let head = 0; head < queue.length; head++) {
      let current = queue[head]!
      const children = this.#store.getChildren(current)
      if (children.length === 0) this.#subtreeSizes.set(current, 1)
      else if (!this.#subtreeSizes.has(current)) {
        queue.push(...children)
        continue
      }
      // A leaf or a subtree already counted: push the count up while every sibling is ready.
      while (current !== block) {
        current = this.#store.getParent(current)!
        const count = (counts.get(current) ?? 0) + 1
        counts.set(current, count)
        const siblings = this.#store.getChildren(current)
        if (count < siblings.length) break
        let sum = 0
        for (const c of siblings) sum += this.#subtreeSizes.get(c)!
        this.#subtreeSizes.set(current, sum + 1)
      }
    }
  }

  /** Re-labels the subtree under `block` from its interval, children sized by subtree with exponential slack. */
  propagateInterval(block: BlockHash): void {
    this.countSubtrees(block)
    const queue: BlockHash[] = [block]
    for (let head = 0; head < queue.length; head++) {
      const current = queue[head]!
      const children = this.#store.getChildren(current)
      if (children.length === 0) continue
      const sizes = children.map((c) => this.#size(c))
      const parts = splitExponential(childrenCapacity(this.#store, current), sizes)
      for (let i = 0; i < children.length; i++) this.#store.setInterval(children[i]!, parts[i]!)
      queue.push(...children)
    }
  }

  #reindexEarlierThanRoot(
    allocationBlock: BlockHash,
    reindexRoot: BlockHash,
    common: BlockHash,
    required: number,
  ): void {
    const chosen = nextChainAncestor(this.#store, reindexRoot, common)
    if (this.#store.getInterval(allocationBlock).start < this.#store.getInterval(chosen).start) {
      this.#reclaim('before', allocationBlock, common, chosen, reindexRoot, required)
    } else {
      this.#reclaim('after', allocationBlock, common, chosen, reindexRoot, required)
    }
  }

  /**
   * Takes `required` space for `allocationBlock` (a sibling of the chain towards the reindex root)
   * from the slack before (or after) each chain block up to the root, shifting what lies between.
   */
  #reclaim(
    side: 'before' | 'after',
    allocationBlock: BlockHash,
    common: BlockHash,
    chosen: BlockHash,
    reindexRoot: BlockHash,
    required: number,
  ): void {
    const shrink = side === 'before' ? increaseStart : decreaseEnd
    const slackOf = (b: BlockHash) =>
      intervalSize(side === 'before' ? remainingBefore(this.#store, b) : remainingAfter(this.#store, b))
    let slackSum = 0
    let pathLength = 0
    let pathSlack = 0
    let current = chosen
    for (;;) {
      if (current === reindexRoot) {
        // At the root (unbounded below it): take what is missing, plus fresh slack for the path walked.
        const offset = required + this.#slack * pathLength - slackSum
        this.#applyAndPropagate(current, offset, shrink)
        this.#offsetSiblings(side, allocationBlock, current, offset)
        pathSlack = this.#slack
        break
      }
      const slack = slackOf(current)
      slackSum += slack
      if (slackSum >= required) {
        const offset = slack - (slackSum - required)
        this.#apply(current, offset, shrink)
        this.#offsetSiblings(side, allocationBlock, current, offset)
        break
      }
      current = nextChainAncestor(this.#store, reindexRoot, current)
      pathLength++
    }
    // Back down towards the common ancestor, each chain block giving up its slack beyond `pathSlack`.
    for (;;) {
      current = this.#store.getParent(current)!
      if (current === common) break
      const offset = slackOf(current) - pathSlack
      this.#apply(current, offset, shrink)
      this.#offsetSiblings(side, allocationBlock, current, offset)
    }
  }

  #offsetSiblings(side: 'before' | 'after', allocationBlock: BlockHash, current: BlockHash, offset: number): void {
    const parent = this.#store.getParent(current)!
    const [before, after] = splitChildren(this.#store.getChildren(parent), current)
    const siblings = side === 'before' ? before.reverse() : after
    for (const sibling of siblings) {
      if (sibling === allocationBlock) {
        this.#applyAndPropagate(allocationBlock, offset, side === 'before' ? increaseEnd : decreaseStart)
        break
      }
      this.#applyAndPropagate(sibling, offset, side === 'before' ? increase : decrease)
    }
  }

  #apply(block: BlockHash, offset: number, op: IntervalOp): void {
    this.#store.setInterval(block, op(this.#store.getInterval(block), offset))
  }

  #applyAndPropagate(block: BlockHash, offset: number, op: IntervalOp): void {
    this.#apply(block, offset, op)
    this.propagateInterval(block)
  }

  /**
   * Moving the reindex root from `parent` to its child `child`: the siblings of `child` are packed
   * tightly (plus slack) at both ends of `parent`'s interval and `child` gets the rest.
   */
  concentrateInterval(parent: BlockHash, child: BlockHash, isFinalReindexRoot: boolean): void {
    const [before, after] = splitChildren(this.#store.getChildren(parent), child)
    const beforeSum = this.#tighten(parent, before, 'before')
    const afterSum = this.#tighten(parent, after, 'after')
    const pi = this.#store.getInterval(parent)
    const allocation = interval(pi.start + beforeSum + this.#slack, pi.end - afterSum - this.#slack - 1)
    const current = this.#store.getInterval(child)
    const inside = allocation.start <= current.start && current.end <= allocation.end
    if (isFinalReindexRoot && !inside) {
      // Re-label the subtree inside a narrower interval, so the next move likely needs no propagation.
      this.#store.setInterval(child, interval(allocation.start + this.#slack, allocation.end - this.#slack))
      this.propagateInterval(child)
    }
    this.#store.setInterval(child, allocation)
  }

  #tighten(parent: BlockHash, children: readonly BlockHash[], side: 'before' | 'after'): number {
    const sizes = children.map((c) => this.#size(c))
    const sum = sizes.reduce((a, b) => a + b, 0)
    const pi = this.#store.getInterval(parent)
    const space =
      side === 'before'
        ? interval(pi.start + this.#slack, pi.start + this.#slack + sum - 1)
        : interval(pi.end - this.#slack - sum, pi.end - this.#slack - 1)
    const parts = splitExact(space, sizes)
    children.forEach((c, i) => {
      this.#store.setInterval(c, parts[i]!)
      this.propagateInterval(c)
    })
    return sum
  }
}
