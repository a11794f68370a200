/**
 * The BFT chain's rules, as the import pipeline sees them ({@link ChainEngine}): no seal but a
 * proposer, and the parent's commit certificate in the extra data (`extra-data.ts`).
 *
 * - `validateHeader`: difficulty 0; the extra data decodes; the coinbase is the proposer of
 *   (height, round) in the validator set of the height; from block 2 on, the extra data carries a
 *   certificate that proves the parent committed (> 2/3 of the parent height's power precommitted
 *   its hash), block 1 none. A follower importing block H+1 so learns that H is final. Evidence
 *   the block carries (extra data version 2) is checked piece by piece: both signatures by a
 *   validator of the evidence's height, conflicting votes, not for a later height nor older than the
 *   pool's age limit, not already committed in a block below (`BftEvidenceCheck`, the engine's pool).
 * - Fork choice: the higher block wins; at equal height, only the block this node's engine is
 *   committing replaces the head (a block gossiped by a byzantine proposer before any commit never
 *   outranks the committed one). The importer refuses any branch that reverts a finalized block,
 *   and the engine finalizes every block it commits: a committed block is never reverted.
 * - No rule finality: the engine pushes finality (`Chain.setFinalized`) per commit, and every
 *   imported block proves its parent final (`parentFinality`: the certificate it carries, stored by
 *   the importer for the parent in the block's batch), so heights caught up by sync have theirs.
 */
import type { ChainEngine, HeaderContext } from '@cairn/chain'
import { CairnError, equalsBytes } from '@cairn/utils'
import type { BlockHeader } from '@ethereumjs/block'
import { ConsensusErrorCode } from '../errors.ts'
import { encodeCertificate, verifyCertificate } from './certificate.ts'
import type { DuplicateVoteEvidence } from './evidence.ts'
import { bftExtraEvidence, decodeBftExtra } from './extra-data.ts'
import { sameChanges, type ValidatorChange, type ValidatorSchedule } from './validator-schedule.ts'

function invalid(header: BlockHeader, message: string, cause?: unknown): CairnError {
  return new CairnError(ConsensusErrorCode.BFT_INVALID_HEADER, `bft block ${header.number}: ${message}`, {
    fault: 'caller',
    ...(cause !== undefined ? { cause } : {}),
  })
}

/**
 * A header refused because this node's own records disagree (see `BFT_RECORDS_INCONSISTENT`): not
 * the block's fault, so not remembered as bad nor its sender penalised — the import is retried later.
 */
function inconsistent(header: BlockHeader, message: string, cause?: unknown): CairnError {
  return new CairnError(ConsensusErrorCode.BFT_RECORDS_INCONSISTENT, `bft block ${header.number}: ${message}`, {
    fault: 'transient',
    ...(cause !== undefined ? { cause } : {}),
  })
}

/** Whether `changes` (in effect at `height + 1`) apply to the set of `height`. */
function applies(validators: ValidatorSchedule, height: number, changes: readonly ValidatorChange[]): boolean {
  if (changes.length === 0) return true
  try {
    validators.at(height).update(changes)
    return true
  } catch {
    return false
  }
}

/** What the rules ask of the evidence pool about a block's evidence (`EvidencePool` fits). */
export interface BftEvidenceCheck {
  /** @throws CairnError `CONSENSUS_BFT_INVALID_EVIDENCE` when it does not verify at `currentHeight` */
  check(ev: DuplicateVoteEvidence, currentHeight: number): void
  /** True when that equivocation is already in a committed block (with `below`: one below that height). */
  isCommitted(ev: DuplicateVoteEvidence, below?: number): boolean
}

export interface BftRulesOptions {
  chainId: bigint
  validators: ValidatorSchedule
  /** The chain's first BFT block, which carries no certificate (default 1; see `BftEngineOptions`). */
  firstHeight?: number
  /** The hash of the block this node is committing right now (fork choice lets it replace an equal-height head). */
  committing?: () => Uint8Array | undefined
  /** Checks a block's evidence; absent: a block carrying evidence is refused (it cannot be checked). */
  evidence?: BftEvidenceCheck
  /**
   * The validator-set updates the parent's `endBlock` returned (the engine keeps them by block
   * hash). A block must carry exactly these; each checked header's changes are recorded into
   * `validators` (effect: its height + 1) and `onScheduleChange` persists them. Absent: a block
   * carrying changes is refused (they cannot be checked) and none are recorded.
   */
  parentValidatorChanges?: (parent: BlockHeader, ctx: HeaderContext) => Promise<readonly ValidatorChange[]>
  /**
   * The parent executed again, its record of updates written afresh (what `parentValidatorChanges`
   * answers next), and those updates; undefined when it cannot be (its state is gone). Asked once
   * when the record does not apply to this node's schedule: a record left stale by an earlier
   * version's race heals instead of refusing every child. Absent: such a record is only refused.
   */
  reexecuteParent?: (parent: BlockHeader, ctx: HeaderContext) => Promise<readonly ValidatorChange[] | undefined>
  /** Called when a header recorded new changes into the schedule (persist it). */
  onScheduleChange?: (ctx: HeaderContext) => Promise<void>
  /**
   * Resolves once `validators` holds what the stored chain says (after a restart: the persisted
   * schedule and the headers above it). No header is judged before: a block a range sync brings
   * before the engine starts would otherwise be checked against the genesis set, refused as
   * invalid, remembered as bad and its sender penalised.
   */
  ready?: () => Promise<void>
}

/** The rules of a BFT chain (see the file comment). */
export function bftChainRules(opts: BftRulesOptions): ChainEngine {
  const { chainId, validators } = opts
  const checkEvidence = (header: BlockHeader, extra: ReturnType<typeof decodeBftExtra>, height: number): void => {
    if (extra.evidence === undefined) return
    let list: DuplicateVoteEvidence[]
    try {
      list = bftExtraEvidence(extra, chainId, validators.scheme)
    } catch (err) {
      throw invalid(header, 'the evidence list does not decode', err)
    }
    const pool = opts.evidence
    if (pool === undefined) throw invalid(header, 'carries evidence and this node has no evidence pool to check it')
    for (const ev of list) {
      // In an ancestor: this very block, committed already (and checked again), does not count.
      if (pool.isCommitted(ev, height)) throw invalid(header, 'carries evidence already committed')
      try {
        pool.check(ev, height)
      } catch (err) {
        throw invalid(header, 'carries invalid evidence', err)
      }
    }
  }
  return {
    name: 'bft',
    async validateHeader(header: BlockHeader, parent: BlockHeader, ctx: HeaderContext): Promise<void> {
      try {
        await opts.ready?.()
      } catch (err) {
        // This node's fault, not the block's: nothing remembered as bad, no peer penalised.
        throw new CairnError(
          ConsensusErrorCode.BFT_SCHEDULE_UNAVAILABLE,
          `block ${header.number}: the validator schedule could not be restored from this node's chain`,
          { fault: 'transient', cause: err },
        )
      }
      if (header.difficulty !== 0n) throw invalid(header, `difficulty ${header.difficulty}, expected 0`)
      if (header.number > BigInt(Number.MAX_SAFE_INTEGER)) throw invalid(header, 'height out of range')
      let extra: ReturnType<typeof decodeBftExtra>
      try {
        extra = decodeBftExtra(header.extraData, validators.scheme)
      } catch (err) {
        throw invalid(header, 'extra data is not [version, round, certificate]', err)
      }
      const height = Number(header.number)
      const proposer = validators.proposer(height, extra.round)
      if (!equalsBytes(proposer, header.coinbase.bytes)) {
        throw invalid(header, `coinbase ${header.coinbase} is not the proposer of round ${extra.round}`)
      }
      checkEvidence(header, extra, height)
      const carried = extra.validatorChanges ?? []
      const first = opts.firstHeight ?? 1
      if (height < first) throw invalid(header, `a bft block below the chain's first bft height ${first}`)
      if (height === first) {
        if (extra.parentCertificate !== null) throw invalid(header, `block ${first} carries a certificate`)
        if (carried.length > 0) throw invalid(header, `block ${first} carries validator changes`)
        return
      }
      const cert = extra.parentCertificate
      if (cert === null) throw invalid(header, 'no commit certificate of the parent')
      if (cert.height !== height - 1 || !equalsBytes(cert.blockHash, parent.hash())) {
        throw invalid(header, `the certificate is for height ${cert.height}, not the parent`)
      }
      try {
        verifyCertificate(cert, validators.at(height - 1), chainId)
      } catch (err) {
        throw invalid(header, "the parent's certificate does not prove its commit", err)
      }
      // The parent's validator-set updates, in effect at height + 1. The parent is final (its
      // certificate just verified), so every valid block of this height carries the same ones.
      if (opts.parentValidatorChanges === undefined) {
        if (carried.length > 0) throw invalid(header, 'carries validator changes this node cannot check')
        return
      }
      // What the parent returned is this node's own record (its execution of the parent): the block
      // is to blame for differing from it only when that record agrees with this node's schedule.
      let expected = await opts.parentValidatorChanges(parent, ctx)
      if (!applies(validators, height, expected)) {
        const again = await opts.reexecuteParent?.(parent, ctx)
        if (again === undefined || !applies(validators, height, again)) {
          throw inconsistent(
            header,
            `the updates this node recorded for the parent do not apply to its set of ${height}`,
          )
        }
        expected = again
      }
      if (!sameChanges(carried, expected)) {
        throw invalid(header, `carries ${carried.length} validator changes, the parent returned ${expected.length}`)
      }
      let fresh: boolean
      try {
        fresh = validators.recordHeader(height, carried)
      } catch (err) {
        // The parent's own updates (they applied just above): the schedule holds others for height + 1.
        throw inconsistent(header, 'its validator changes conflict with what this node scheduled', err)
      }
      if (fresh) await opts.onScheduleChange?.(ctx)
    },
    // The parent's certificate this header carries, checked by `validateHeader` above (signatures,
    // more than 2/3 of the parent height's power) before the importer asks: the importer stores it
    // for the parent and makes the parent final, so a block that arrives by sync proves its parent
    // final exactly as the engine's own commit would.
    parentFinality(header: BlockHeader): Uint8Array | undefined {
      try {
        const cert = decodeBftExtra(header.extraData, validators.scheme).parentCertificate
        return cert === null ? undefined : encodeCertificate(cert)
      } catch {
        return undefined
      }
    },
    async preferHead(candidate: BlockHeader, current: BlockHeader): Promise<boolean> {
      if (candidate.number !== current.number) return candidate.number > current.number
      const committing = opts.committing?.()
      return committing !== undefined && equalsBytes(committing, candidate.hash())
    },
  }
}
