import { bytesToHex, CairnError, equalsBytes } from '@cairn/utils'
import type { Block, BlockHeader } from '@ethereumjs/block'
import type { ChainEngine } from '../engine.ts'
import { ChainErrorCode } from '../errors.ts'
import type { ChainStore } from '../store/store.ts'

/** The safe and finalized pointers that a change moves. */
export interface Checkpoints {
  safe?: BlockHeader
  finalized?: BlockHeader
}

/**
 * What fork choice decided for a stored, executed block (`ForkChoice.onBlock`): nothing is applied
 * until the importer has written the block and hands the change back to {@link ForkChoice.apply}.
 */
export interface HeadChange {
  status: 'head' | 'side'
  /** Blocks that join the canonical chain, oldest first (the block itself last). */
  added: Block[]
  /** Blocks that leave it, newest first (a reorg). */
  removed: Block[]
  /** The checkpoints that move with the new head (rule finality; a safe block a reorg removed). */
  moved: Checkpoints
}

/**
 * The chain's fork choice, a stateful object (Lodestar's `ForkChoice`, geth's `ForkChoice`): it
 * holds the head and the safe and finalized checkpoints, hears of every block (`onBlock`) and of
 * finality (`onFinalized`, `onSafe`), and answers `head()`. Which of two branches wins is the
 * engine's rule (`ChainEngine.preferHead`; rule finality from `safeNumber`/`finalizedNumber`);
 * what may never happen is enforced here for every engine: a head on a branch that leaves the
 * chain below the finalized block (WOULD_REVERT_FINALIZED), and finality moving backwards.
 *
 * It decides and the importer writes: `onBlock`/`onFinalized` compute a change from the stored
 * chain without touching it, the importer writes the block and the pointers in one batch, then
 * `apply` makes the change current — so a failed write leaves the head where it was.
 */
export class ForkChoice {
  private current: Block
  private safeHeader: BlockHeader
  private finalizedHeader: BlockHeader

  constructor(
    opts: { head: Block; safe?: BlockHeader; finalized?: BlockHeader },
    private readonly modules: {
      store: ChainStore
      engine: Pick<ChainEngine, 'preferHead' | 'safeNumber' | 'finalizedNumber'>
    },
  ) {
    this.current = opts.head
    this.safeHeader = opts.safe ?? opts.head.header
    this.finalizedHeader = opts.finalized ?? opts.head.header
  }

  /** The canonical head. */
  head(): Block {
    return this.current
  }

  /** The latest safe block's header. */
  safe(): BlockHeader {
    return this.safeHeader
  }

  /** The latest finalized block's header (never reverted). */
  finalized(): BlockHeader {
    return this.finalizedHeader
  }

  /**
   * Refuses a block whose branch leaves the canonical chain below the finalized block: importing
   * it could only ever make a finalized block non-canonical. A block extending the head passes at
   * once; one with an ancestor no longer stored (pruned) is refused as not found, not as invalid.
   * Cheap enough to run before execution and again at commit (finality may have moved).
   */
  async checkViable(block: Block): Promise<void> {
    if (equalsBytes(block.header.parentHash, this.current.hash())) return
    const { store } = this.modules
    const fin = this.finalizedHeader
    let hash = block.header.parentHash
    let cur = await store.getHeader(hash)
    while (cur && cur.number > fin.number) {
      const canonical = await store.getCanonicalHash(cur.number)
      if (canonical && equalsBytes(canonical, cur.hash())) return
      hash = cur.parentHash
      cur = await store.getHeader(hash)
    }
    if (cur === undefined) {
      // An ancestor this node no longer holds (an engine pruned the side branch under stored
      // blocks, or is pruning it now): this node's state, not the block's fault. Neither bad nor
      // its sender to blame; sync or a parent lookup may bring the branch again.
      throw new CairnError(
        ChainErrorCode.BLOCK_NOT_FOUND,
        `block ${block.header.number} ${bytesToHex(block.hash())}: its ancestor ${bytesToHex(hash)} is not stored (a pruned side branch)`,
        { fault: 'transient' },
      )
    }
    if (equalsBytes(cur.hash(), fin.hash())) return
    throw new CairnError(
      ChainErrorCode.WOULD_REVERT_FINALIZED,
      `block ${block.header.number} ${bytesToHex(block.hash())} is on a branch that leaves the chain below finalized block ${fin.number} ${bytesToHex(fin.hash())}`,
      { fault: 'caller' },
    )
  }

  /**
   * Decides what a new block (its parent stored, the block itself executed and about to be
   * written) does to the head: extends it, wins by the engine's rule (a reorg: the branches to
   * add and remove) or stays a side block; and where the checkpoints go with it.
   */
  async onBlock(block: Block): Promise<HeadChange> {
    const old = this.current
    if (equalsBytes(block.header.parentHash, old.hash())) {
      return { status: 'head', added: [block], removed: [], moved: await this.checkpointsFor(block, [block], []) }
    }
    if (!(await this.modules.engine.preferHead(block.header, old.header))) {
      return { status: 'side', added: [], removed: [], moved: {} }
    }
    const { added, removed } = await this.branches(old, block)
    return { status: 'head', added, removed, moved: await this.checkpointsFor(block, added, removed) }
  }

  /**
   * Checks that the canonical block `header` may become final (finality only moves forward) and
   * returns the checkpoints that move: finalized, and safe when it was below.
   */
  onFinalized(header: BlockHeader): Checkpoints {
    if (header.number < this.finalizedHeader.number) {
      throw new CairnError(
        ChainErrorCode.FINALITY_INVALID,
        `cannot finalize block ${header.number}: block ${this.finalizedHeader.number} is already final`,
        { fault: 'caller' },
      )
    }
    const moved: Checkpoints = { finalized: header }
    if (this.safeHeader.number < header.number) moved.safe = header
    return moved
  }

  /** Checks that the canonical block `header` may become the safe block (not below finalized). */
  onSafe(header: BlockHeader): Checkpoints {
    if (header.number < this.finalizedHeader.number) {
      throw new CairnError(ChainErrorCode.FINALITY_INVALID, `block ${header.number} is below the finalized block`, {
        fault: 'caller',
      })
    }
    return { safe: header }
  }

  /** Makes a written change current: the new head (when it is one) and the checkpoints that moved. */
  apply(change: { head?: Block; moved: Checkpoints }): void {
    if (change.head) this.current = change.head
    if (change.moved.finalized) this.finalizedHeader = change.moved.finalized
    if (change.moved.safe) this.safeHeader = change.moved.safe
  }

  /**
   * A dev rewind to the canonical ancestor `target`: the head moves back, and checkpoints above it
   * come down to it.
   */
  rewindTo(target: Block): void {
    this.devReset({
      head: target,
      safe: this.safeHeader.number > target.header.number ? target.header : this.safeHeader,
      finalized: this.finalizedHeader.number > target.header.number ? target.header : this.finalizedHeader,
    })
  }

  /**
   * Dev controls only (rewind, `anvil_reorg`'s branch replacement), after they have written the
   * pointers themselves: the head and both checkpoints as given — the one place finality may move
   * back, which consensus never does.
   */
  devReset(to: { head: Block; safe: BlockHeader; finalized: BlockHeader }): void {
    this.current = to.head
    this.safeHeader = to.safe
    this.finalizedHeader = to.finalized
  }

  /** The blocks to add (oldest first) and remove (newest first) to move the head to `target`. */
  private async branches(from: Block, target: Block): Promise<{ added: Block[]; removed: Block[] }> {
    const { store } = this.modules
    const added: Block[] = [target]
    const removed: Block[] = []
    let a = from
    let b = await store.mustGetBlock(target.header.parentHash)
    while (a.header.number > b.header.number) {
      removed.push(a)
      a = await store.mustGetBlock(a.header.parentHash)
    }
    while (b.header.number > a.header.number) {
      added.unshift(b)
      b = await store.mustGetBlock(b.header.parentHash)
    }
    while (!equalsBytes(a.hash(), b.hash())) {
      removed.push(a)
      added.unshift(b)
      a = await store.mustGetBlock(a.header.parentHash)
      b = await store.mustGetBlock(b.header.parentHash)
    }
    return { added, removed }
  }

  /**
   * Where the safe and finalized pointers go with a new head: a rule-finality engine's numbers
   * (finalized only forward: it is never reverted), and a safe block that a reorg removed falls
   * back to the branches' common ancestor.
   */
  private async checkpointsFor(head: Block, added: Block[], removed: Block[]): Promise<Checkpoints> {
    const { store, engine } = this.modules
    const moved: Checkpoints = {}
    const at = async (n: bigint) => {
      if (n === head.header.number) return head.header
      const hash = await this.canonicalAncestor(head, n, added)
      return hash ? store.getHeader(hash) : undefined
    }
    const safe = this.safeHeader
    const finalized = this.finalizedHeader
    if (engine.finalizedNumber) {
      const n = engine.finalizedNumber(head.header)
      const h = n > finalized.number ? await at(n) : undefined
      if (h) moved.finalized = h
    }
    if (engine.safeNumber) {
      const h = await at(engine.safeNumber(head.header))
      if (h && !equalsBytes(h.hash(), safe.hash())) moved.safe = h
    } else if (removed.some((b) => equalsBytes(b.hash(), safe.hash()))) {
      const ancestor = await store.getHeader((added[0] as Block).header.parentHash)
      if (ancestor) moved.safe = ancestor
    }
    const fin = moved.finalized ?? finalized
    if ((moved.safe ?? safe).number < fin.number) moved.safe = fin
    return moved
  }

  /** The hash at height `n` on the branch ending at `head` (canonical index not yet updated). */
  private async canonicalAncestor(head: Block, n: bigint, added: Block[]): Promise<Uint8Array | undefined> {
    const { store } = this.modules
    for (const b of added) if (b.header.number === n) return b.hash()
    let cur = head.header
    while (cur.number > n) {
      const parent = await store.getHeader(cur.parentHash)
      if (!parent) return undefined
      if (parent.number === n) return parent.hash()
      const canonical = await store.getCanonicalHash(parent.number)
      if (canonical && equalsBytes(canonical, parent.hash())) return store.getCanonicalHash(n)
      cur = parent
    }
    return cur.number === n ? cur.hash() : undefined
  }
}
