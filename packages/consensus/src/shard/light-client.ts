/**
 * A light client of one shard: the finalized headers of another BFT chain, verified from its
 * commit certificates alone (Cosmos IBC's Tendermint client, sequential verification). It starts
 * at the shard's genesis (its hash and validator set, from the shard registry) and takes the
 * shard's headers in order of height, each with the certificate that commits it (the one the next
 * block carries as its parent certificate, or `cairn_getFinality`). For each it checks the parent
 * link and that the certificate holds more than 2/3 of the power of that height's set, then
 * follows the set's changes the header carries (a header of height h carries the updates in effect
 * at h + 1, as the shard's own nodes' `ValidatorSchedule` reads them). What it keeps per height is
 * what proofs need: the state root.
 *
 * Its whole state between two headers is a {@link LightClientState}: the last verified height and
 * hash and the set of the next height (members and powers: a certificate's check needs no proposer
 * priority). {@link verifyNextHeader} is the step as a pure function, so the bridge inside a chain
 * keeps that state in its account's storage (every node agrees on it) and {@link ShardLightClient}
 * keeps it in memory with the recent state roots.
 *
 * Why sequential and not skipping (IBC's "bisection"): the coordinating shard records every
 * shard's finalized headers anyway, and a header costs one certificate check (4 ecrecovers at 4
 * validators); skipping would add a trust period and an unbonding-time assumption to save that.
 */
import { keccak256 } from '@cairn/crypto'
import { CairnError } from '@cairn/utils'
import { RLP } from '@ethereumjs/rlp'
import type { CommitCertificate } from '../bft/certificate.ts'
import { verifyCertificate } from '../bft/certificate.ts'
import { decodeBftExtra } from '../bft/extra-data.ts'
import type { Address } from '../bft/messages.ts'
import type { SignatureScheme } from '../bft/pq/scheme.ts'
import { ValidatorSet } from '../bft/validator-set.ts'
import { ShardErrorCode } from './errors.ts'

export interface ShardLightClientOptions {
  shard: number
  chainId: bigint
  /** The shard's genesis hash (32 zero bytes: not pinned, the first header's parent is taken as it comes). */
  genesisHash: Uint8Array
  /** The validator set of height 1 (the shard's genesis set). */
  validators: readonly { address: Address; votingPower: bigint; pqPublicKey?: Uint8Array }[]
  scheme?: SignatureScheme
  /** How many recent heights' state roots are kept for proofs. Default 4,096. */
  window?: number
}

export interface VerifiedHeader {
  height: number
  hash: Uint8Array
  stateRoot: Uint8Array
}

function invalid(shard: number, message: string): CairnError {
  return new CairnError(ShardErrorCode.INVALID_HEADER, `shard ${shard} header: ${message}`, { fault: 'peer' })
}

/** The fields of an RLP block header the light client reads (parent hash, state root, number, extra data). */
function headerFields(
  shard: number,
  bytes: Uint8Array,
): { parentHash: Uint8Array; stateRoot: Uint8Array; number: number; extraData: Uint8Array } {
  let d: unknown
  try {
    d = RLP.decode(bytes)
  } catch {
    throw invalid(shard, 'not RLP')
  }
  if (!Array.isArray(d) || d.length < 15 || !d.every((f) => f instanceof Uint8Array)) {
    throw invalid(shard, 'not a block header (a list of at least 15 byte strings)')
  }
  const f = d as Uint8Array[]
  const [parentHash, stateRoot, number, extraData] = [f[0], f[3], f[8], f[12]] as Uint8Array[]
  if (parentHash?.length !== 32 || stateRoot?.length !== 32)
    throw invalid(shard, 'parent hash and state root are 32 bytes')
  if ((number?.length ?? 0) > 6) throw invalid(shard, 'number above 2^48')
  return {
    parentHash,
    stateRoot,
    number: number?.length ? Number.parseInt(Buffer.from(number).toString('hex'), 16) : 0,
    extraData: extraData ?? new Uint8Array(),
  }
}

/** A light client's state between two headers (what the bridge stores per shard). */
export interface LightClientState {
  shard: number
  chainId: bigint
  scheme: SignatureScheme
  /** The last verified height (0: only the genesis). */
  height: number
  /** Its hash (the genesis hash at height 0). */
  hash: Uint8Array
  /** The validator set of height + 1, in the set's order. */
  validators: readonly { address: Address; votingPower: bigint; pqPublicKey?: Uint8Array | null }[]
}

/** The state of a light client at a shard's genesis. */
export function genesisClientState(opts: ShardLightClientOptions): LightClientState {
  const set = ValidatorSet.create(opts.validators, opts.scheme ?? 'secp256k1')
  return {
    shard: opts.shard,
    chainId: opts.chainId,
    scheme: set.scheme,
    height: 0,
    hash: opts.genesisHash,
    validators: membersOf(set),
  }
}

function membersOf(set: ValidatorSet): LightClientState['validators'] {
  return set.validators.map((v) =>
    v.pqPublicKey === null
      ? { address: v.address, votingPower: v.votingPower }
      : { address: v.address, votingPower: v.votingPower, pqPublicKey: v.pqPublicKey },
  )
}

/**
 * Verifies the next header (RLP) of `state`'s shard with the certificate that commits it.
 * @returns the verified header and the state after it
 * @throws CairnError `CONSENSUS_SHARD_INVALID_HEADER` (fault 'peer') naming what is wrong
 */
export function verifyNextHeader(
  state: LightClientState,
  headerRlp: Uint8Array,
  certificate: CommitCertificate,
): { verified: VerifiedHeader; state: LightClientState } {
  const shard = state.shard
  const h = headerFields(shard, headerRlp)
  const height = state.height + 1
  if (h.number !== height) throw invalid(shard, `height ${h.number}, expected ${height}`)
  // A genesis hash of zeros pins no parent for height 1 (shards whose geneses name each other
  // cannot hold each other's hashes): the genesis validators' certificate is the trust root.
  const unpinned = state.height === 0 && state.hash.every((b) => b === 0)
  if (!unpinned && Buffer.compare(h.parentHash, state.hash) !== 0)
    throw invalid(shard, `height ${height} is not a child of the last verified header`)
  const hash = keccak256(headerRlp)
  if (certificate.height !== height || Buffer.compare(certificate.blockHash, hash) !== 0) {
    throw invalid(shard, `the certificate is of height ${certificate.height}, not of this header`)
  }
  let set: ValidatorSet
  try {
    set = ValidatorSet.create(state.validators, state.scheme)
    verifyCertificate(certificate, set, state.chainId)
  } catch (err) {
    throw invalid(shard, `height ${height}: ${(err as Error).message}`)
  }
  let next = set
  try {
    const changes = decodeBftExtra(h.extraData, state.scheme).validatorChanges ?? []
    // A header of height h carries its parent's updates, in effect at h + 1 (ValidatorSchedule.recordHeader).
    if (height >= 2 && changes.length > 0) next = set.update(changes)
  } catch (err) {
    throw invalid(shard, `height ${height} extra data: ${(err as Error).message}`)
  }
  return {
    verified: { height, hash, stateRoot: h.stateRoot },
    state: { ...state, height, hash, validators: membersOf(next) },
  }
}

export class ShardLightClient {
  readonly shard: number
  readonly #window: number
  readonly #roots = new Map<number, VerifiedHeader>()
  #state: LightClientState

  constructor(opts: ShardLightClientOptions) {
    this.shard = opts.shard
    this.#window = opts.window ?? 4096
    this.#state = genesisClientState(opts)
  }

  /** The highest verified height (0: only the genesis). */
  get height(): number {
    return this.#state.height
  }

  /** The state between headers (what {@link verifyNextHeader} takes). */
  get state(): LightClientState {
    return this.#state
  }

  /**
   * Verifies the next header (RLP) with the certificate that commits it, and keeps its state root.
   * @throws CairnError `CONSENSUS_SHARD_INVALID_HEADER` (fault 'peer') naming what is wrong
   */
  update(headerRlp: Uint8Array, certificate: CommitCertificate): VerifiedHeader {
    const { verified, state } = verifyNextHeader(this.#state, headerRlp, certificate)
    this.#state = state
    this.#roots.set(verified.height, verified)
    this.#roots.delete(verified.height - this.#window)
    return verified
  }

  /**
   * The verified header of `height`.
   * @throws CairnError `CONSENSUS_SHARD_UNKNOWN_HEIGHT` (fault 'peer') when it is not verified (yet, or any more)
   */
  at(height: number): VerifiedHeader {
    const v = this.#roots.get(height)
    if (v === undefined) {
      throw new CairnError(
        ShardErrorCode.UNKNOWN_HEIGHT,
        `shard ${this.shard} height ${height} is not a verified header (verified up to ${this.#state.height}, the last ${this.#window} kept)`,
        { fault: 'peer' },
      )
    }
    return v
  }
}
