/**
 * The commit certificate of a block: the precommits that committed it.
 *
 * RLP: `[height, round, blockHash, [[validatorIndex, signature], …]]`, indices ascending into the
 * validator set of that height, signatures 65 bytes `r ‖ s ‖ v` over the precommit digest
 * (`voteDigest` with type PRECOMMIT). This is what block H+1 carries in its header extra data, so
 * any node or light client can check from the chain alone that block H is final.
 */
import { CairnError } from '@cairn/utils'
import { RLP } from '@ethereumjs/rlp'
import { ConsensusErrorCode } from '../errors.ts'
import { type BlockHash, hashKey, MsgType } from './messages.ts'
import { recoverSigner, voteDigest } from './signing.ts'
import type { ValidatorSet } from './validator-set.ts'

/** One precommit in a certificate. */
export interface CommitSignature {
  validatorIndex: number
  signature: Uint8Array
}

export interface CommitCertificate {
  height: number
  round: number
  blockHash: BlockHash
  signatures: CommitSignature[]
}

function malformed(message: string): CairnError {
  return new CairnError(ConsensusErrorCode.BFT_MALFORMED, `commit certificate: ${message}`, { fault: 'peer' })
}

function toUint(bytes: unknown, what: string): number {
  if (!(bytes instanceof Uint8Array)) throw malformed(`${what} is not a byte string`)
  if (bytes.length > 6) throw malformed(`${what} is too large`)
  if (bytes.length > 0 && bytes[0] === 0) throw malformed(`${what} has a leading zero`)
  let n = 0
  for (const b of bytes) n = n * 256 + b
  return n
}

/** The RLP bytes of a certificate. */
export function encodeCertificate(cert: CommitCertificate): Uint8Array {
  return RLP.encode([
    cert.height,
    cert.round,
    cert.blockHash,
    cert.signatures.map((s) => [s.validatorIndex, s.signature]),
  ])
}

/**
 * A certificate from its RLP bytes (structure only; {@link verifyCertificate} checks the signatures).
 * @throws CairnError `CONSENSUS_BFT_MALFORMED` (fault 'peer')
 */
export function decodeCertificate(bytes: Uint8Array): CommitCertificate {
  let decoded: unknown
  try {
    decoded = RLP.decode(bytes)
  } catch (err) {
    throw new CairnError(ConsensusErrorCode.BFT_MALFORMED, 'commit certificate: not RLP', { fault: 'peer', cause: err })
  }
  if (!Array.isArray(decoded) || decoded.length !== 4) throw malformed('expected a list of 4 items')
  const [height, round, blockHash, sigs] = decoded as unknown[]
  if (!(blockHash instanceof Uint8Array) || blockHash.length !== 32) throw malformed('block hash is not 32 bytes')
  if (!Array.isArray(sigs)) throw malformed('signatures are not a list')
  const signatures = sigs.map((entry: unknown, i): CommitSignature => {
    if (!Array.isArray(entry) || entry.length !== 2) throw malformed(`signature ${i} is not [index, signature]`)
    const signature = entry[1]
    if (!(signature instanceof Uint8Array) || signature.length !== 65) throw malformed(`signature ${i} is not 65 bytes`)
    return { validatorIndex: toUint(entry[0], `signature ${i}'s index`), signature }
  })
  return { height: toUint(height, 'height'), round: toUint(round, 'round'), blockHash, signatures }
}

/**
 * Checks that `cert` proves the commit of its block: every signature is a precommit for
 * (height, round, blockHash) by the validator at its index, indices are ascending (so distinct),
 * and the signers hold more than 2/3 of `validators`' power (the set of the certificate's height).
 * @throws CairnError `CONSENSUS_BFT_INVALID_CERTIFICATE` (fault 'peer') saying what is wrong
 */
export function verifyCertificate(
  cert: CommitCertificate,
  validators: ValidatorSet,
  chainId: bigint,
  recover: (digest: Uint8Array, signature: Uint8Array) => Uint8Array | null = recoverSigner,
): void {
  const fail = (message: string, meta: Record<string, unknown> = {}): CairnError =>
    new CairnError(
      ConsensusErrorCode.BFT_INVALID_CERTIFICATE,
      `commit certificate for height ${cert.height}: ${message}`,
      {
        fault: 'peer',
        meta: { height: cert.height, round: cert.round, blockHash: hashKey(cert.blockHash), ...meta },
      },
    )
  const digest = voteDigest(chainId, {
    type: MsgType.PRECOMMIT,
    height: cert.height,
    round: cert.round,
    blockHash: cert.blockHash,
  })
  let power = 0n
  let last = -1
  for (const { validatorIndex, signature } of cert.signatures) {
    if (validatorIndex <= last) throw fail('validator indices are not strictly ascending', { validatorIndex })
    last = validatorIndex
    const validator = validators.at(validatorIndex)
    if (validator === undefined) throw fail(`no validator at index ${validatorIndex}`, { validatorIndex })
    const signer = recover(digest, signature)
    if (signer === null || hashKey(signer) !== hashKey(validator.address)) {
      throw fail(`the signature at index ${validatorIndex} is not the validator's precommit`, { validatorIndex })
    }
    power += validator.votingPower
  }
  if (!validators.hasTwoThirds(power)) {
    throw fail(`signers hold ${power} of ${validators.totalVotingPower} voting power, not more than 2/3`, {
      power: power.toString(),
    })
  }
}
