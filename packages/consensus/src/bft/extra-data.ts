/**
 * What a BFT block carries in its header's extra data: `rlp([1, round, certificate])`, the round its
 * proposer built it for (which fixes the proposer: the header's coinbase) and the commit certificate
 * of its parent (empty for block 1, whose parent is the genesis). So block H+1 proves that block H
 * is final, and a follower checks finality from the chain alone.
 */
import { CairnError } from '@cairn/utils'
import { RLP } from '@ethereumjs/rlp'
import { ConsensusErrorCode } from '../errors.ts'
import { type CommitCertificate, decodeCertificate, encodeCertificate } from './certificate.ts'

export const BFT_EXTRA_VERSION = 1
/** Rounds beyond this are refused in a header (the proposer of round r costs r priority steps to find). */
export const MAX_HEADER_ROUND = 100_000

export interface BftExtra {
  round: number
  /** The parent's commit certificate; null in block 1. */
  parentCertificate: CommitCertificate | null
}

export function encodeBftExtra(extra: BftExtra): Uint8Array {
  return RLP.encode([
    BFT_EXTRA_VERSION,
    extra.round,
    extra.parentCertificate === null ? new Uint8Array() : encodeCertificate(extra.parentCertificate),
  ])
}

function malformed(message: string, cause?: unknown): CairnError {
  return new CairnError(ConsensusErrorCode.BFT_MALFORMED, `bft extra data: ${message}`, {
    fault: 'peer',
    ...(cause !== undefined ? { cause } : {}),
  })
}

/** @throws CairnError `CONSENSUS_BFT_MALFORMED` (fault 'peer') */
export function decodeBftExtra(bytes: Uint8Array): BftExtra {
  let decoded: unknown
  try {
    decoded = RLP.decode(bytes)
  } catch (err) {
    throw malformed('not RLP', err)
  }
  if (!Array.isArray(decoded) || decoded.length !== 3) throw malformed('expected [version, round, certificate]')
  const [version, round, cert] = decoded as unknown[]
  if (!(version instanceof Uint8Array) || version.length !== 1 || version[0] !== BFT_EXTRA_VERSION) {
    throw malformed('unknown version')
  }
  if (!(round instanceof Uint8Array) || round.length > 4 || (round.length > 0 && round[0] === 0)) {
    throw malformed('bad round')
  }
  let r = 0
  for (const b of round) r = r * 256 + b
  if (r > MAX_HEADER_ROUND) throw malformed(`round ${r} is above ${MAX_HEADER_ROUND}`)
  if (!(cert instanceof Uint8Array)) throw malformed('certificate is not a byte string')
  return { round: r, parentCertificate: cert.length === 0 ? null : decodeCertificate(cert) }
}
