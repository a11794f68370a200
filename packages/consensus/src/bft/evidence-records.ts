/**
 * The BFT engine's evidence records around its {@link EvidencePool}: what a proposal carries (the
 * pending pieces its height accepts), the evidence committed blocks carry (marked, so it is neither
 * accepted nor proposed again; rebuilt at start from the headers of the age window), and the
 * pending pieces kept in the chain's engine data (`PENDING_EVIDENCE_KEY`), written before a piece
 * leaves or is accepted and reloaded at start.
 */
import type { BlockReader, EngineData } from '@cairn/chain'
import type { Logger } from '@cairn/utils'
import type { BlockHeader } from '@ethereumjs/block'
import type { DuplicateVoteEvidence, EvidencePool } from './evidence.ts'
import { decodeEvidenceList, encodeEvidenceList } from './evidence-pool.ts'
import { bftExtraEvidence, decodeBftExtra, maxBlockEvidence } from './extra-data.ts'

/** The engine-data key of the pending evidence (an `encodeEvidenceList` of the pool's pending pieces). */
export const PENDING_EVIDENCE_KEY = 'bft/evidence/pending'

/** The chain as the evidence records read it: its headers and the engine's data. */
export type EvidenceChain = Pick<BlockReader, 'getCanonicalHash' | 'getHeader'> & { readonly engineData: EngineData }

export interface EvidenceRecordsOptions {
  chainId: bigint
}

export interface EvidenceRecordsModules {
  /** The engine's evidence pool. */
  pool: EvidencePool
  /** The chain the engine is attached to; undefined before `attach` (nothing is written then). */
  chain: () => EvidenceChain | undefined
  logger: Logger
}

export class EvidenceRecords {
  readonly #opts: EvidenceRecordsOptions
  readonly #m: EvidenceRecordsModules
  /** The pending evidence changed since it was last written to the chain store. */
  #dirty = false
  #write: Promise<unknown> = Promise.resolve()

  constructor(opts: EvidenceRecordsOptions, modules: EvidenceRecordsModules) {
    this.#opts = opts
    this.#m = modules
  }

  /**
   * The pending evidence a block of `height` carries (the oldest first, at most
   * `maxBlockEvidence` of the scheme): only pieces every importer accepts at that height.
   */
  forBlock(height: number): Uint8Array {
    const pool = this.#m.pool
    const list: DuplicateVoteEvidence[] = []
    const max = maxBlockEvidence(pool.scheme)
    for (const ev of pool.pending()) {
      if (list.length >= max) break
      try {
        pool.check(ev, height)
        list.push(ev)
      } catch {
        // For a later height (kept for then) or aged out (pruned at a commit).
      }
    }
    return list.length === 0 ? new Uint8Array() : encodeEvidenceList(list)
  }

  /**
   * The pool back from the chain at start, for the machine's `height`: the committed evidence of
   * the headers below it, then the stored pending pieces.
   */
  async restore(chain: EvidenceChain, height: number): Promise<void> {
    await this.#restoreCommitted(chain, height - 1)
    await this.#restorePending(chain, height)
  }

  /** The pending evidence changed (a piece was pooled): written now, before the piece leaves or is accepted. */
  async changed(): Promise<void> {
    this.#dirty = true
    await this.#save()
  }

  /** A block became the head (imported or committed): its evidence leaves the pending list, written. */
  async imported(header: BlockHeader): Promise<void> {
    this.#markCommitted(header)
    await this.#save()
  }

  /** This node committed the block of `height`: its evidence is marked and what aged out pruned, written. */
  async committed(header: BlockHeader, height: number): Promise<void> {
    const pool = this.#m.pool
    this.#markCommitted(header)
    const before = pool.size
    pool.prune(height + 1)
    if (pool.size !== before) this.#dirty = true
    await this.#save()
  }

  /**
   * The pool's memory of committed evidence, back from the chain after a restart: the headers of
   * the evidence age window below `top` (evidence older than that is refused anyway), so a
   * restarted node neither accepts nor proposes again what a block already carries.
   */
  async #restoreCommitted(chain: EvidenceChain, top: number): Promise<void> {
    for (let h = Math.max(1, top - this.#m.pool.maxAgeHeights); h <= top; h++) {
      const hash = await chain.getCanonicalHash(BigInt(h))
      const header = hash === undefined ? undefined : await chain.getHeader(hash)
      if (header !== undefined) this.#markCommitted(header, false)
    }
  }

  /** The evidence of a committed (or imported) block leaves the pending list and is not taken again. */
  #markCommitted(header: BlockHeader, log = true): void {
    const pool = this.#m.pool
    let list: DuplicateVoteEvidence[]
    try {
      const extra = decodeBftExtra(header.extraData, pool.scheme)
      if (extra.evidence === undefined) return
      list = bftExtraEvidence(extra, this.#opts.chainId, pool.scheme)
    } catch {
      return
    }
    list = list.filter((ev) => !pool.isCommitted(ev))
    if (list.length === 0) return
    pool.markCommitted(list, Number(header.number))
    this.#dirty = true
    if (log) this.#m.logger.info({ height: Number(header.number), evidence: list.length }, 'evidence committed')
  }

  /**
   * Writes the pool's pending evidence to the chain store (`PENDING_EVIDENCE_KEY`) when it changed:
   * before a new piece is gossiped or accepted from a peer, and after a block commits some. A
   * LevelDB write survives the process being killed; the evidence is in no block yet, so a node
   * restarted before one carries it still proposes it and gossips it.
   */
  async #save(): Promise<void> {
    if (!this.#dirty) return
    const data = this.#m.chain()?.engineData
    if (data === undefined) return
    this.#dirty = false
    const pending = this.#m.pool.pending()
    // One write at a time, in order (a peer's evidence is saved outside the engine's queue).
    const write = this.#write.then(() =>
      pending.length === 0
        ? data.del(PENDING_EVIDENCE_KEY)
        : data.put(PENDING_EVIDENCE_KEY, encodeEvidenceList(pending)),
    )
    this.#write = write.catch(() => {})
    await write
  }

  /**
   * The pending evidence back from the chain store at start (after the committed evidence): what a
   * block committed since, or what aged out below `height − maxAgeHeights`, is dropped; the rest is
   * verified again (`submit` at `height`) and pooled, to be proposed and gossiped.
   */
  async #restorePending(chain: EvidenceChain, height: number): Promise<void> {
    const pool = this.#m.pool
    const bytes = await chain.engineData.get(PENDING_EVIDENCE_KEY)
    if (bytes === undefined) return
    let list: DuplicateVoteEvidence[]
    try {
      list = decodeEvidenceList(bytes, this.#opts.chainId, Number.MAX_SAFE_INTEGER, pool.scheme)
    } catch (err) {
      this.#m.logger.warn({ err }, 'the stored pending evidence does not decode; dropped')
      this.#dirty = true
      await this.#save()
      return
    }
    let restored = 0
    for (const ev of list) {
      if (pool.isCommitted(ev) || ev.voteA.height < height - pool.maxAgeHeights) continue
      try {
        if (pool.submit(ev, height) === 'added') restored++
      } catch (err) {
        this.#m.logger.warn({ err, height: ev.voteA.height }, 'stored pending evidence no longer verifies; dropped')
      }
    }
    if (restored !== list.length) {
      this.#dirty = true
      await this.#save()
    }
    if (restored > 0) this.#m.logger.info({ evidence: restored }, 'pending evidence restored')
  }
}
