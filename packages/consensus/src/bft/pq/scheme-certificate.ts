/**
 * Commit certificates under any {@link SignatureScheme}: the same RLP as today's
 * (`[height, round, blockHash, [[validatorIndex, signature], …]]`, certificate.ts), each signature
 * the scheme's byte string — 65, 3,309 or 3,374 bytes. `encodeCertificate` already encodes any
 * length; what changes is the decoder's length check (65 there, the scheme's here) and the
 * verifier, which checks the ML-DSA part against the set's keys instead of recovering only.
 *
 * One signature field, not `[index, secpSig, pqSig]`: the scheme is fixed for the chain, so a
 * length says it all; the certificate grammar, the extra-data versions and every decoder stay as
 * they are; and a hybrid signature is one unit that is valid or not — separate fields would invite
 * entries with one part absent, which every verifier would then have to refuse.
 *
 * These are the shapes `certificate.ts` takes in the integration slice (its functions gain the
 * scheme); until then the engine does not call them.
 */
import { CairnError } from '@cairn/utils'
import { RLP } from '@ethereumjs/rlp'
import { ConsensusErrorCode } from '../../errors.ts'
import type { CommitCertificate, CommitSignature } from '../certificate.ts'
import { type Address, hashKey, MsgType } from '../messages.ts'
import { voteDigest } from '../signing.ts'
import type { ValidatorSet } from '../validator-set.ts'
import { type SignatureScheme, signatureBytes } from './scheme.ts'
import { type VerifyVoteSignatureModules, verifyVoteSignature } from './verify-vote.ts'

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

/**
 * A certificate from its RLP bytes, each signature of `scheme`'s length (structure only).
 * @throws CairnError `CONSENSUS_BFT_MALFORMED` (fault 'peer')
 */
export function decodeSchemeCertificate(bytes: Uint8Array, scheme: SignatureScheme): CommitCertificate {
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

/**
 * Checks that `cert` proves the commit of its block under `scheme`: every signature is a precommit
 * for (height, round, blockHash) by the validator at its index (its ML-DSA key from `pqKeyOf`),
 * indices strictly ascending, signers holding more than 2/3 of the power of `validators`.
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
