/**
 * How the engine signs its proposals and votes ({@link ConsensusSigner}, CometBFT's
 * `PrivValidator`), and the in-process backend: a validator's key behind its signer state
 * ({@link ValidatorSigner}). The other backend is the remote signer (`remote-signer/`), a separate
 * process holding the key and its own double-sign protection.
 */
import { privateKeyToAddress } from '@cairn/crypto'
import type { Address, Proposal, SignedProposal, SignedVote, Vote } from './messages.ts'
import { MsgType, signStepOf } from './messages.ts'
import type { SignerState } from './signer-state.ts'
import { proposalDigest, signDigest, voteDigest } from './signing.ts'

/** A signature refused by the signer state, with the reason (a would-be double sign). */
export interface SignRefusal {
  refused: string
}

/**
 * A consensus signer: the validator's address, and signatures of its votes and proposals, each
 * either returned or refused (a would-be double sign). A backend may answer asynchronously (a
 * remote signer); one that cannot answer at all (unreachable, timed out) throws, and the engine
 * sends nothing for that step — the validator misses a vote, and stays safe.
 *
 * Every backend keeps a double-sign protection that is durable before the signature is returned:
 * nothing it refused, and nothing conflicting with what it signed before, ever leaves it.
 */
export interface ConsensusSigner {
  readonly address: Address
  signVote(vote: Vote): SignedVote | SignRefusal | Promise<SignedVote | SignRefusal>
  signProposal(proposal: Proposal): SignedProposal | SignRefusal | Promise<SignedProposal | SignRefusal>
}

export interface ValidatorSignerModules {
  state: SignerState
  /** Signs a digest (65 bytes `r ‖ s ‖ v`); defaults to secp256k1 with the key. Tests may memoize. */
  sign?: (digest: Uint8Array) => Uint8Array
}

/** The in-process backend: the key in this process, synchronous, behind a {@link SignerState}. */
export class ValidatorSigner implements ConsensusSigner {
  readonly address: Address
  readonly #chainId: bigint
  readonly #state: SignerState
  readonly #sign: (digest: Uint8Array) => Uint8Array

  constructor(opts: { chainId: bigint; privateKey: Uint8Array }, modules: ValidatorSignerModules) {
    this.address = privateKeyToAddress(opts.privateKey)
    this.#chainId = opts.chainId
    this.#state = modules.state
    const key = opts.privateKey
    this.#sign = modules.sign ?? ((digest) => signDigest(digest, key))
  }

  /** Signs `vote` unless it would conflict with an earlier signature. */
  signVote(vote: Vote): SignedVote | SignRefusal {
    const check = this.#state.checkAndRecord({
      height: vote.height,
      round: vote.round,
      step: signStepOf(vote.type),
      blockHash: vote.blockHash,
    })
    if (!check.ok) return { refused: check.reason }
    return { ...vote, signature: this.#sign(voteDigest(this.#chainId, vote)) }
  }

  /** Signs `proposal` unless it would conflict with an earlier signature. */
  signProposal(proposal: Proposal): SignedProposal | SignRefusal {
    const check = this.#state.checkAndRecord({
      height: proposal.height,
      round: proposal.round,
      step: signStepOf(MsgType.PROPOSAL),
      blockHash: proposal.blockHash,
    })
    if (!check.ok) return { refused: check.reason }
    return { ...proposal, signature: this.#sign(proposalDigest(this.#chainId, proposal)) }
  }
}
