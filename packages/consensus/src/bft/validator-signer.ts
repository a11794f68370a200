/**
 * A validator's signing key behind its signer state (CometBFT's `PrivValidator`): every proposal
 * and vote goes through `checkAndRecord` first, and nothing the state refuses is signed.
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

export interface ValidatorSignerModules {
  state: SignerState
  /** Signs a digest (65 bytes `r ‖ s ‖ v`); defaults to secp256k1 with the key. Tests may memoize. */
  sign?: (digest: Uint8Array) => Uint8Array
}

export class ValidatorSigner {
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
