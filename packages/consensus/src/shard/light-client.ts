/**
 * A light client of one shard: the finalized headers of another BFT chain, verified from its
 * commit certificates alone (Cosmos IBC's Tendermint client, sequential verification). It starts
 * at the shard's genesis (its hash and validator set, from the shard registry) and takes the
 * shard's headers in order of height, each with the certificate that commits it (the one the next
 * block carries as its parent certificate, or `cairn_getFinality`). For each it checks the parent
 * link and that the certificate holds more than 2/3 of the power of that height's set, then
 * follows the set's changes the header carries (in effect two heights on, as the shard's own
 * nodes do: `ValidatorSchedule`). What it keeps per height is what proofs need: the state root.
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
import { ValidatorSchedule } from '../bft/validator-schedule.ts'
import { ShardErrorCode } from './errors.ts'

export interface ShardLightClientOptions {
  shard: number
  chainId: bigint
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

export class ShardLightClient {
  readonly shard: number
  readonly #opts: ShardLightClientOptions
  readonly #schedule: ValidatorSchedule
  readonly #roots = new Map<number, VerifiedHeader>()
  #last: VerifiedHeader

  constructor(opts: ShardLightClientOptions) {
    this.shard = opts.shard
    this.#opts = opts
    this.#schedule = new ValidatorSchedule(opts.validators, undefined, opts.scheme ?? 'secp256k1')
    this.#last = { height: 0, hash: opts.genesisHash, stateRoot: new Uint8Array(32) }
  }

  /** The highest verified height (0: only the genesis). */
  get height(): number {
    return this.#last.height
  }

  /**
   * Verifies the next header (RLP) with the certificate that commits it, and keeps its state root.
   * @throws CairnError `CONSENSUS_SHARD_INVALID_HEADER` (fault 'peer') naming what is wrong
   */
  update(headerRlp: Uint8Array, certificate: CommitCertificate): VerifiedHeader {
    const shard = this.shard
    const h = headerFields(shard, headerRlp)
    const height = this.#last.height + 1
    if (h.number !== height) throw invalid(shard, `height ${h.number}, expected ${height}`)
    if (Buffer.compare(h.parentHash, this.#last.hash) !== 0)
      throw invalid(shard, `height ${height} is not a child of the last verified header`)
    const hash = keccak256(headerRlp)
    if (certificate.height !== height || Buffer.compare(certificate.blockHash, hash) !== 0) {
      throw invalid(shard, `the certificate is of height ${certificate.height}, not of this header`)
    }
    try {
      verifyCertificate(certificate, this.#schedule.at(height), this.#opts.chainId)
    } catch (err) {
      throw invalid(shard, `height ${height}: ${(err as Error).message}`)
    }
    let changes: ReturnType<typeof decodeBftExtra>['validatorChanges']
    try {
      changes = decodeBftExtra(h.extraData, this.#schedule.scheme).validatorChanges
    } catch (err) {
      throw invalid(shard, `height ${height} extra data: ${(err as Error).message}`)
    }
    this.#schedule.recordHeader(height, changes ?? [])
    const verified = { height, hash, stateRoot: h.stateRoot }
    this.#last = verified
    this.#roots.set(height, verified)
    const window = this.#opts.window ?? 4096
    this.#roots.delete(height - window)
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
        `shard ${this.shard} height ${height} is not a verified header (verified up to ${this.#last.height}, the last ${this.#opts.window ?? 4096} kept)`,
        { fault: 'peer' },
      )
    }
    return v
  }
}
