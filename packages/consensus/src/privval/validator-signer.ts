/**
 * How the engine signs its proposals and votes ({@link ConsensusSigner}, CometBFT's
 * `PrivValidator`), and the in-process backend: a validator's key behind its signer state
 * ({@link ValidatorSigner}). The other backend is the remote signer (`remote-signer.ts`), a
 * separate process holding the key and its own double-sign protection. Either holds its keys as
 * {@link DigestKey}s: bytes in this process, or a key on a PKCS#11 HSM that never leaves it
 * (@cairn/keys `hsm/`).
 *
 * Key rotation (`Staking.rotateConsensusKey`): the in-process signer may hold the next key beside
 * the current one; per height it signs with the key whose address is in that height's validator
 * set, and with no key at all when none is (it refuses). Both keys share one signer state: only one
 * of them is in any height's set, so their signatures are at disjoint heights, in order.
 */

import { type DigestKey, rawDigestKey } from '@cairn/keys'
import { CairnError } from '@cairn/utils'
import type { Address, Proposal, SignedProposal, SignedVote, Vote } from '../bft/messages.ts'
import { MsgType, signStepOf } from '../bft/messages.ts'
import { proposalDigest, voteDigest } from '../bft/signing.ts'
import type { ValidatorSet } from '../bft/validator-set.ts'
import { ConsensusErrorCode } from '../errors.ts'
import type { SignerState } from './signer-state.ts'

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
  /**
   * The address it signs with at `height`, null when it holds no key of that height's set (several
   * keys while a rotation is under way). Absent: `address` at every height.
   */
  addressAt?(height: number): Address | null
  /** Every address it may sign with (to know its own messages). Absent: `[address]`. */
  readonly addresses?: readonly Address[]
  /**
   * Given by the engine before it starts: the validator set of each height, for a signer that
   * holds several keys and signs each height with the one in its set (a rotation under way).
   */
  followValidatorSets?(setAt: (height: number) => ValidatorSet): void
  signVote(vote: Vote): SignedVote | SignRefusal | Promise<SignedVote | SignRefusal>
  signProposal(proposal: Proposal): SignedProposal | SignRefusal | Promise<SignedProposal | SignRefusal>
}

/**
 * The keys, either as private key bytes (`privateKey`, `nextPrivateKeys`) or as {@link DigestKey}s
 * (`key`, `nextKeys`: a key in an HSM, @cairn/keys `hsm/`); one of `privateKey` and `key` is required.
 */
export interface ValidatorSignerOptions {
  chainId: bigint
  privateKey?: Uint8Array
  /** Keys it rotates to (the next consensus key): used at the heights whose set holds them. */
  nextPrivateKeys?: readonly Uint8Array[]
  /** The current key as a {@link DigestKey} (instead of `privateKey`). */
  key?: DigestKey
  /** Keys it rotates to, as {@link DigestKey}s (after `nextPrivateKeys`). */
  nextKeys?: readonly DigestKey[]
}

export interface ValidatorSignerModules {
  state: SignerState
  /** Signs a digest (65 bytes `r ‖ s ‖ v`) with a raw key; defaults to secp256k1. Tests may memoize. */
  sign?: (digest: Uint8Array, privateKey: Uint8Array) => Uint8Array
  /**
   * The validator set of a height (the engine's schedule). With next keys it is required, here or
   * later through {@link ValidatorSigner.followValidatorSets} (an engine given this signer calls
   * it): the key of a height is the one in its set. Without next keys, the key signs at every height.
   */
  validatorSetAt?: (height: number) => ValidatorSet
}

/** The in-process backend: the key in this process, synchronous, behind a {@link SignerState}. */
export class ValidatorSigner implements ConsensusSigner {
  /** The current key's address. */
  readonly address: Address
  readonly addresses: readonly Address[]
  readonly #keys: DigestKey[]
  readonly #chainId: bigint
  readonly #state: SignerState
  #setAt: ((height: number) => ValidatorSet) | undefined

  constructor(opts: ValidatorSignerOptions, modules: ValidatorSignerModules) {
    const raw = (k: Uint8Array) => rawDigestKey(k, modules.sign)
    const current = opts.key ?? (opts.privateKey !== undefined ? raw(opts.privateKey) : undefined)
    if (current === undefined) {
      throw new CairnError(ConsensusErrorCode.BFT_SIGNER_CONFIG, 'a validator signer needs a key', {
        hint: 'pass opts.privateKey or opts.key',
      })
    }
    this.#keys = [current, ...(opts.nextPrivateKeys ?? []).map(raw), ...(opts.nextKeys ?? [])]
    this.address = current.address
    this.addresses = this.#keys.map((k) => k.address)
    this.#chainId = opts.chainId
    this.#state = modules.state
    this.#setAt = this.#keys.length > 1 ? modules.validatorSetAt : undefined
  }

  /** Given by the engine: the validator set of each height (used when it holds next keys). */
  followValidatorSets(setAt: (height: number) => ValidatorSet): void {
    if (this.#keys.length > 1 && this.#setAt === undefined) this.#setAt = setAt
  }

  /** The address of the key that signs at `height`: the one in its set (null: none is). */
  addressAt(height: number): Address | null {
    return this.#keyAt(height)?.address ?? null
  }

  #keyAt(height: number): DigestKey | null {
    if (this.#keys.length === 1) return this.#keys[0]!
    const setAt = this.#setAt
    if (setAt === undefined) {
      throw new CairnError(
        ConsensusErrorCode.BFT_SIGNER_CONFIG,
        'next validator keys need the validator set per height',
        {
          hint: 'pass modules.validatorSetAt, or give the signer to an engine (the key of a height is the one in its set)',
        },
      )
    }
    const set = setAt(height)
    return this.#keys.find((k) => set.indexOf(k.address) >= 0) ?? null
  }

  /** Signs `vote` with the key of its height unless it would conflict with an earlier signature. */
  signVote(vote: Vote): SignedVote | SignRefusal {
    const k = this.#keyAt(vote.height)
    if (k === null) return { refused: `no key of this validator is in the set of height ${vote.height}` }
    const check = this.#state.checkAndRecord({
      height: vote.height,
      round: vote.round,
      step: signStepOf(vote.type),
      blockHash: vote.blockHash,
    })
    if (!check.ok) return { refused: check.reason }
    return { ...vote, signature: k.sign(voteDigest(this.#chainId, vote)) }
  }

  /** Signs `proposal` with the key of its height unless it would conflict with an earlier signature. */
  signProposal(proposal: Proposal): SignedProposal | SignRefusal {
    const k = this.#keyAt(proposal.height)
    if (k === null) return { refused: `no key of this validator is in the set of height ${proposal.height}` }
    const check = this.#state.checkAndRecord({
      height: proposal.height,
      round: proposal.round,
      step: signStepOf(MsgType.PROPOSAL),
      blockHash: proposal.blockHash,
    })
    if (!check.ok) return { refused: check.reason }
    return { ...proposal, signature: k.sign(proposalDigest(this.#chainId, proposal)) }
  }
}
