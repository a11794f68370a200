/**
 * The commit certificate of a block: the precommits that committed it.
 *
 * RLP: `[height, round, blockHash, [[validatorIndex, signature], …]]`, indices ascending into the
 * validator set of that height, each signature the chain's scheme's byte string over the precommit
 * digest (`voteDigest` with type PRECOMMIT): 65 bytes `r ‖ s ‖ v` under secp256k1, 3,374 under
 * hybrid, 3,309 under ML-DSA-65 (docs/consensus/post-quantum.md). This is what block H+1 carries in
 * its header extra data, so any node or light client can check from the chain alone that block H
 * is final.
 *
 * One signature field whatever the scheme: it is fixed for the chain, so the length says it all and
 * a hybrid signature is one unit, valid or not. This is the one decoder and verifier of
 * certificates; `decodeSchemeCertificate` / `verifySchemeCertificate` (`@cairn/consensus/pq`) are
 * their scheme-explicit forms.
 */
import { CairnError } from '@cairn/utils'
import { RLP } from '@ethereumjs/rlp'
import { ConsensusErrorCode } from '../errors.ts'
import { type Address, type BlockHash, hashKey, MsgType } from './messages.ts'
import { type SignatureScheme, signatureBytes } from './pq/scheme.ts'
import { type VerifyVoteSignatureModules, verifyVoteSignature } from './pq/verify-vote.ts'
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
 * A certificate from its RLP bytes, each signature of `scheme`'s length (structure only;
 * {@link verifyCertificate} checks the signatures).
 * @throws CairnError `CONSENSUS_BFT_MALFORMED` (fault 'peer')
 */
export function decodeCertificate(bytes: Uint8Array, scheme: SignatureScheme = 'secp256k1'): CommitCertificate {
  const length = signatureBytes(scheme)
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
    if (!(signature instanceof Uint8Array) || signature.length !== length) {
      throw malformed(`signature ${i} is not ${length} bytes (${scheme})`)
    }
    return { validatorIndex: toUint(entry[0], `signature ${i}'s index`), signature }
  })
  return { height: toUint(height, 'height'), round: toUint(round, 'round'), blockHash, signatures }
}

/** {@link decodeCertificate} with the scheme required (the PQ module's name for it). */
export function decodeSchemeCertificate(bytes: Uint8Array, scheme: SignatureScheme): CommitCertificate {
  return decodeCertificate(bytes, scheme)
}

/**
 * Checks that `cert` proves the commit of its block under the scheme of `validators` (the set of
 * the certificate's height, with its members' ML-DSA keys): see {@link verifySchemeCertificate}.
 * @throws CairnError `CONSENSUS_BFT_INVALID_CERTIFICATE` (fault 'peer') saying what is wrong
 */
export function verifyCertificate(
  cert: CommitCertificate,
  validators: ValidatorSet,
  chainId: bigint,
  recover: (digest: Uint8Array, signature: Uint8Array) => Uint8Array | null = recoverSigner,
): void {
  verifySchemeCertificate(cert, validators.scheme, validators, (a) => validators.pqKeyOf(a), chainId, { recover })
}

/**
 * Checks that `cert` proves the commit of its block under `scheme`: every signature is a precommit
 * for (height, round, blockHash) by the validator at its index (`verifyVoteSignature`, its ML-DSA
 * key from `pqKeyOf`), indices strictly ascending (so distinct), signers holding more than 2/3 of
 * the power of `validators`.
 * @throws CairnError `CONSENSUS_BFT_INVALID_CERTIFICATE` (fault 'peer') with the failure reason
 */
export function verifySchemeCertificate(
  cert: CommitCertificate,
  scheme: SignatureScheme,
  validators: ValidatorSet,
  pqKeyOf: (address: Address) => Uint8Array | null,
  chainId: bigint,
  modules: VerifyVoteSignatureModules = {},
): void {
  const fail = (message: string, meta: Record<string, unknown> = {}): CairnError =>
    new CairnError(
      ConsensusErrorCode.BFT_INVALID_CERTIFICATE,
      `commit certificate for height ${cert.height}: ${message}`,
      { fault: 'peer', meta: { height: cert.height, round: cert.round, blockHash: hashKey(cert.blockHash), ...meta } },
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
    const identity = { address: validator.address, pqPublicKey: pqKeyOf(validator.address) }
    const check = verifyVoteSignature(scheme, digest, signature, identity, modules)
    if (!check.ok) {
      throw fail(`the signature at index ${validatorIndex} is not the validator's precommit: ${check.message}`, {
        validatorIndex,
        reason: check.reason,
      })
    }
    power += validator.votingPower
  }
  if (!validators.hasTwoThirds(power)) {
    throw fail(`signers hold ${power} of ${validators.totalVotingPower} voting power, not more than 2/3`, {
      power: power.toString(),
    })
  }
}
