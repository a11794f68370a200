/**
 * What a BFT block carries in its header's extra data: `rlp([1, round, certificate])`, the round its
 * proposer built it for (which fixes the proposer: the header's coinbase) and the commit certificate
 * of its parent (empty for block 1, whose parent is the genesis). So block H+1 proves that block H
 * is final, and a follower checks finality from the chain alone.
 *
 * A block that carries duplicate-vote evidence is `rlp([2, round, certificate, evidence])`, the
 * evidence the byte string `encodeEvidenceList(...)` (an RLP list of each piece's RLP). A block
 * without evidence stays version 1 (byte for byte what it was), and version 1 still decodes (no
 * evidence).
 *
 * A block whose parent's `endBlock` returned validator-set updates carries them:
 * `rlp([3, round, certificate, evidence, [[address, power], …]])` (evidence empty when none, the
 * list non-empty). They take effect at this block's height + 1 (the parent's + 2), so the schedule
 * of validator sets follows from the headers alone (`validator-schedule.ts`).
 *
 * Every signature (certificate, evidence) is the chain's scheme's (`pq/scheme.ts`): decoding takes
 * the scheme, and refuses extra data above {@link maxBftExtraBytes} of it before decoding anything.
 */
import { ML_DSA65_PUBLIC_KEY_BYTES } from '@cairn/crypto'
import { CairnError } from '@cairn/utils'
import { RLP } from '@ethereumjs/rlp'
import { ConsensusErrorCode } from '../errors.ts'
import { type CommitCertificate, decodeCertificate, encodeCertificate } from './certificate.ts'
import type { DuplicateVoteEvidence } from './evidence.ts'
import { decodeEvidenceList } from './evidence-pool.ts'
import { needsPqKeys, type SignatureScheme, signatureBytes } from './pq/scheme.ts'
import { decodeValidatorChanges, encodeValidatorChanges, type ValidatorChange } from './validator-schedule.ts'

export const BFT_EXTRA_VERSION = 1
/** The version of a block that carries evidence. */
export const BFT_EXTRA_VERSION_EVIDENCE = 2
/** The version of a block that carries its parent's validator-set updates. */
export const BFT_EXTRA_VERSION_VALIDATORS = 3
/** At most this many validator changes in one block. */
export const MAX_BLOCK_VALIDATOR_CHANGES = 1000
/** At most this many pieces of evidence in one block under secp256k1 (the proposer takes the oldest pending). */
export const MAX_BLOCK_EVIDENCE = 32
/**
 * At most this many pieces in one block under a PQ scheme: each carries two 3,374-byte (hybrid)
 * signatures, so 32 would be 216 KB of header; 4 is 27 KB.
 */
export const MAX_BLOCK_EVIDENCE_PQ = 4
/** The largest set whose certificate a header may carry (the bound of {@link maxBftExtraBytes}). */
export const MAX_CERTIFICATE_SIGNERS = 1000
/** Rounds beyond this are refused in a header (the proposer of round r costs r priority steps to find). */
export const MAX_HEADER_ROUND = 100_000

export interface BftExtra {
  round: number
  /** The parent's commit certificate; null in block 1. */
  parentCertificate: CommitCertificate | null
  /**
   * The block's evidence list as `encodeEvidenceList` bytes, empty when it carries none. Decoded
   * (signers recovered) by {@link bftExtraEvidence}; not verified here (`bft-rules.ts` does).
   */
  evidence?: Uint8Array
  /** The parent's validator-set updates (in effect at this height + 1); absent or empty: none. */
  validatorChanges?: ValidatorChange[]
}

/** The most evidence one block carries under `scheme`. */
export function maxBlockEvidence(scheme: SignatureScheme): number {
  return scheme === 'secp256k1' ? MAX_BLOCK_EVIDENCE : MAX_BLOCK_EVIDENCE_PQ
}

/**
 * The largest extra data a BFT header may have under `scheme`: a certificate of
 * {@link MAX_CERTIFICATE_SIGNERS} signers, the most evidence, the most validator changes, with
 * room for RLP headers (secp256k1 ≈ 0.14 MB, hybrid ≈ 5.4 MB with keyed changes). Checked before decoding.
 */
export function maxBftExtraBytes(scheme: SignatureScheme): number {
  const sig = signatureBytes(scheme)
  const certificate = 64 + MAX_CERTIFICATE_SIGNERS * (sig + 16)
  const evidence = 16 + maxBlockEvidence(scheme) * (64 + 2 * (sig + 48))
  // A change is [address, power] (≈ 40 B), under a PQ scheme with a joiner's 1,952-byte key.
  const changes = 16 + MAX_BLOCK_VALIDATOR_CHANGES * (40 + (needsPqKeys(scheme) ? ML_DSA65_PUBLIC_KEY_BYTES + 3 : 0))
  return 32 + certificate + evidence + changes
}

export function encodeBftExtra(extra: BftExtra): Uint8Array {
  const cert = extra.parentCertificate === null ? new Uint8Array() : encodeCertificate(extra.parentCertificate)
  const evidence = extra.evidence ?? new Uint8Array()
  const changes = extra.validatorChanges ?? []
  if (changes.length > 0) {
    return RLP.encode([
      BFT_EXTRA_VERSION_VALIDATORS,
      extra.round,
      cert,
      evidence,
      RLP.decode(encodeValidatorChanges(changes)) as never,
    ])
  }
  if (evidence.length === 0) return RLP.encode([BFT_EXTRA_VERSION, extra.round, cert])
  return RLP.encode([BFT_EXTRA_VERSION_EVIDENCE, extra.round, cert, evidence])
}

/**
 * The evidence a block's extra data carries, decoded (signers recovered, not verified).
 * @throws CairnError `CONSENSUS_BFT_MALFORMED` or `CONSENSUS_BFT_INVALID_EVIDENCE` (fault 'peer')
 */
export function bftExtraEvidence(
  extra: BftExtra,
  chainId: bigint,
  scheme: SignatureScheme = 'secp256k1',
): DuplicateVoteEvidence[] {
  const bytes = extra.evidence
  if (bytes === undefined || bytes.length === 0) return []
  return decodeEvidenceList(bytes, chainId, maxBlockEvidence(scheme), scheme)
}

function malformed(message: string, cause?: unknown): CairnError {
  return new CairnError(ConsensusErrorCode.BFT_MALFORMED, `bft extra data: ${message}`, {
    fault: 'peer',
    ...(cause !== undefined ? { cause } : {}),
  })
}

/**
 * A header's BFT extra data, its signatures of `scheme`'s length (the chain's).
 * @throws CairnError `CONSENSUS_BFT_MALFORMED` (fault 'peer'), also when above {@link maxBftExtraBytes}
 */
export function decodeBftExtra(bytes: Uint8Array, scheme: SignatureScheme = 'secp256k1'): BftExtra {
  const limit = maxBftExtraBytes(scheme)
  if (bytes.length > limit) throw malformed(`${bytes.length} bytes, above the ${scheme} limit of ${limit}`)
  let decoded: unknown
  try {
    decoded = RLP.decode(bytes)
  } catch (err) {
    throw malformed('not RLP', err)
  }
  if (!Array.isArray(decoded) || decoded.length < 3 || decoded.length > 5) {
    throw malformed('expected [version, round, certificate, evidence?, validator changes?]')
  }
  const [version, round, cert, evidence, changes] = decoded as unknown[]
  if (!(version instanceof Uint8Array) || version.length !== 1) throw malformed('unknown version')
  const v = version[0]
  if (
    !(
      (v === BFT_EXTRA_VERSION && decoded.length === 3) ||
      (v === BFT_EXTRA_VERSION_EVIDENCE && decoded.length === 4) ||
      (v === BFT_EXTRA_VERSION_VALIDATORS && decoded.length === 5)
    )
  ) {
    throw malformed(`unknown version ${v} with ${decoded.length} fields`)
  }
  if (!(round instanceof Uint8Array) || round.length > 4 || (round.length > 0 && round[0] === 0)) {
    throw malformed('bad round')
  }
  let r = 0
  for (const b of round) r = r * 256 + b
  if (r > MAX_HEADER_ROUND) throw malformed(`round ${r} is above ${MAX_HEADER_ROUND}`)
  if (!(cert instanceof Uint8Array)) throw malformed('certificate is not a byte string')
  const parentCertificate = cert.length === 0 ? null : decodeCertificate(cert, scheme)
  if (evidence === undefined) return { round: r, parentCertificate }
  if (v === BFT_EXTRA_VERSION_VALIDATORS) {
    if (!(evidence instanceof Uint8Array)) throw malformed('evidence is not a byte string')
    if (!Array.isArray(changes) || changes.length === 0 || changes.length > MAX_BLOCK_VALIDATOR_CHANGES) {
      throw malformed('validator changes are not a non-empty list')
    }
    let validatorChanges: ValidatorChange[]
    try {
      validatorChanges = decodeValidatorChanges(changes, scheme)
    } catch (err) {
      throw malformed('validator changes do not decode', err)
    }
    return {
      round: r,
      parentCertificate,
      ...(evidence.length > 0 ? { evidence } : {}),
      validatorChanges,
    }
  }
  // Version 2 carries at least one piece (a block without evidence is version 1).
  if (!(evidence instanceof Uint8Array) || evidence.length === 0)
    throw malformed('evidence is not a non-empty byte string')
  return { round: r, parentCertificate, evidence }
}
