/**
 * What this validator signs and sends: a vote or a proposal signed through its
 * {@link ConsensusSigner} (in process, or a remote signer whose protection records the signature
 * durably first and refuses a conflicting one), logged to the WAL, published, and handed back to
 * the machine as an event. A signature refused, or one the signer cannot give (unreachable, timed
 * out), is not sent: the step goes unvoted, and the validator stays safe. A replayed step (the WAL
 * holds it already) is not signed again.
 */
import { KeysErrorCode } from '@cairn/keys'
import { isCairnError, type Logger } from '@cairn/utils'
import { ConsensusErrorCode } from '../errors.ts'
import type { ConsensusSigner, SignRefusal } from '../privval/validator-signer.ts'
import type { BftMetrics } from './bft-metrics.ts'
import type { BftEvent } from './events.ts'
import { MsgType, type Proposal, type SignedProposal, type SignedVote, type Vote } from './messages.ts'
import type { SignatureScheme } from './pq/scheme.ts'
import type { ConsensusReactor } from './reactor.ts'
import type { EngineWal } from './wal-replay.ts'

export interface OwnMessagesModules {
  signer: ConsensusSigner | null
  scheme: SignatureScheme
  wal: EngineWal
  reactor: ConsensusReactor
  logger: Logger
  metrics?: BftMetrics | null
  /** This validator's own precommit, signed and sent (it joins the last commit's certificate). */
  ownPrecommit: (vote: SignedVote, height: number) => void
}

export class OwnMessages {
  readonly #m: OwnMessagesModules

  constructor(modules: OwnMessagesModules) {
    this.#m = modules
  }

  async vote(vote: Vote): Promise<BftEvent[]> {
    const { signer, wal, reactor } = this.#m
    if (signer === null) return []
    if (wal.replayedVote(vote)) return []
    const signature = await this.#signed(() => signer.signVote(vote), 'vote', vote)
    if (signature === null) return []
    const signed = this.#named(signature, signer)
    const event: BftEvent = { kind: 'vote', vote: signed }
    wal.logSync(event)
    reactor.publishOwn({ kind: 'vote', vote: signed })
    if (vote.type === MsgType.PRECOMMIT) this.#m.ownPrecommit(signed, vote.height)
    return [event]
  }

  async proposal(proposal: Proposal): Promise<BftEvent[]> {
    const { signer, wal, reactor } = this.#m
    if (signer === null) return []
    if (wal.replayedProposal(proposal)) return []
    const signature = await this.#signed(() => signer.signProposal(proposal), 'proposal', proposal)
    if (signature === null) return []
    const signed = this.#named(signature, signer)
    const event: BftEvent = { kind: 'proposal', proposal: signed }
    wal.logSync(event)
    reactor.publishOwn({ kind: 'proposal', proposal: signed })
    return [event]
  }

  /**
   * Under `ml-dsa-65` a signed message names its signer (an ML-DSA signature recovers no one): the
   * signer's address at the message's height. Under the other schemes it is left as it is.
   */
  #named<T extends SignedVote | SignedProposal>(signed: T, signer: ConsensusSigner): T {
    if (this.#m.scheme !== 'ml-dsa-65' || signed.validator !== undefined) return signed
    const validator = signer.addressAt ? signer.addressAt(signed.height) : signer.address
    return validator === null ? signed : { ...signed, validator }
  }

  /**
   * A signature from the signer, or null when there is none to send: refused (a would-be double
   * sign) or not given (the signer unreachable or too slow: it throws). An in-process signer
   * answers synchronously and is not awaited (no extra turn of the queue).
   */
  async #signed<T>(
    sign: () => T | SignRefusal | Promise<T | SignRefusal>,
    what: 'vote' | 'proposal',
    msg: { height: number; round: number },
  ): Promise<T | null> {
    let signed: T | SignRefusal
    try {
      const answer = sign()
      signed = answer instanceof Promise ? await answer : answer
    } catch (err) {
      // An unreachable signer is logged once by the signer itself (down, then back): not every step.
      const down =
        isCairnError(err, ConsensusErrorCode.BFT_SIGNER_UNAVAILABLE) || isCairnError(err, KeysErrorCode.KEY_UNAVAILABLE)
      this.#m.logger[down ? 'debug' : 'warn'](
        { err, height: msg.height, round: msg.round },
        `signer gave no signature: ${what} not sent`,
      )
      return null
    }
    if (typeof signed === 'object' && signed !== null && 'refused' in signed) {
      this.#m.logger.warn({ reason: signed.refused, height: msg.height, round: msg.round }, `signer refused a ${what}`)
      this.#m.metrics?.refusedSignatures.inc()
      return null
    }
    return signed as T
  }
}
