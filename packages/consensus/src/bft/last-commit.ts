/**
 * The certificate of the last committed height as this node will carry it in the next block it
 * proposes (CometBFT's LastCommit): the first quorum of precommits the machine decided with, then
 * every later precommit of the same block and round as it arrives — a peer's, or this node's own
 * when it decided before precommitting (`state-machine.ts` `#decide`). Precommits of the height
 * being committed wait until its commit sets the certificate. The proposer of the next height
 * waits for the missing ones up to its gather window (`gatherFor`, read by `round-clock.ts`), so a
 * validator slower than the others is not counted absent in the certificates the chain records.
 */
import { equalsBytes } from '@cairn/utils'
import type { CommitCertificate } from './certificate.ts'
import type { Address, SignedVote } from './messages.ts'
import type { ValidatorSchedule } from './validator-schedule.ts'

/** At most this many precommits wait for the commit of their height. */
const MAX_WAITING = 1024

export interface LastCommitModules {
  validators: ValidatorSchedule
  /** The height of the last committed block (−1 before the first). */
  committedHeight: () => number
  /** This validator's address at a height, or null for a follower. */
  addressAt: (height: number) => Address | null
  /** The wait after a commit now (ms): the gather window is half of it, at most a second. */
  blockTimeMs: () => number
}

export class LastCommit {
  readonly #m: LastCommitModules
  #certificate: CommitCertificate | null = null
  #waiting: { vote: SignedVote; signer: Address }[] = []

  constructor(modules: LastCommitModules) {
    this.#m = modules
  }

  /** The certificate of the last committed height, with the late precommits added so far. */
  get certificate(): CommitCertificate | null {
    return this.#certificate
  }

  /** The certificate read back from the chain (at start, or after following the chain's finality). */
  restore(certificate: CommitCertificate | null): void {
    this.#certificate = certificate
  }

  /** The commit of a height sets its certificate; precommits of that height waiting for it join it. */
  committed(certificate: CommitCertificate): void {
    this.#certificate = certificate
    const waiting = this.#waiting
    this.#waiting = []
    for (const { vote, signer } of waiting) this.add(vote, signer)
  }

  /**
   * A precommit of the height being committed or just committed (its signer checked against that
   * height's set by the caller): added to the certificate when it is for the same block and round.
   */
  add(vote: SignedVote, signer: Address): void {
    const cert = this.#certificate
    if (cert === null || vote.height !== cert.height) {
      if (vote.height === this.#m.committedHeight() + 1 && this.#waiting.length < MAX_WAITING) {
        this.#waiting.push({ vote, signer })
      }
      return
    }
    if (vote.round !== cert.round) return
    if (vote.blockHash === null || !equalsBytes(vote.blockHash, cert.blockHash)) return
    const index = this.#m.validators.at(cert.height).indexOf(signer)
    if (index < 0 || cert.signatures.some((s) => s.validatorIndex === index)) return
    const signatures = [...cert.signatures, { validatorIndex: index, signature: vote.signature }].sort(
      (a, b) => a.validatorIndex - b.validatorIndex,
    )
    this.#certificate = { ...cert, signatures }
  }

  /**
   * How long this node, the proposer of `height`'s round 0, may wait after its commit of
   * `height − 1` for the precommits still missing from that certificate: half the block time, at
   * most a second; 0 when the certificate is full or another validator proposes.
   */
  gatherFor(height: number): number {
    const cert = this.#certificate
    if (cert === null || cert.height !== height - 1) return 0
    const self = this.#m.addressAt(height)
    if (self === null || !equalsBytes(this.#m.validators.proposer(height, 0), self)) return 0
    if (cert.signatures.length >= this.#m.validators.at(cert.height).validators.length) return 0
    return Math.min(Math.floor(this.#m.blockTimeMs() / 2), 1000)
  }
}
