/**
 * Evidence of equivocation: two signed votes of one validator for the same (height, round, type)
 * and different block hashes. The pair alone proves it (recover both signers; no trust in whoever
 * reports it), so it can be gossiped, put in a block and later checked on-chain with `ecrecover`.
 *
 * RLP: `[height, round, type, [hashA, sigA], [hashB, sigB]]`, a nil vote's hash empty, the pair
 * ordered by hash (nil first) so the same equivocation always encodes the same way. Under
 * `ml-dsa-65` (a signature recovers no signer) a sixth item names the validator, its 20-byte
 * address: `[height, round, type, [hashA, sigA], [hashB, sigB], validator]`; under secp256k1 and
 * hybrid the validator is recovered and the five items are unchanged.
 */
import { CairnError } from '@cairn/utils'
import { RLP } from '@ethereumjs/rlp'
import { ConsensusErrorCode } from '../errors.ts'
import { type Address, hashKey, MsgType, type SignedVote } from './messages.ts'
import { SECP_SIGNATURE_BYTES, type SignatureScheme, signatureBytes } from './pq/scheme.ts'
import { verifyVoteSignature } from './pq/verify-vote.ts'
import { recoverSigner, voteDigest } from './signing.ts'
import type { ValidatorSet } from './validator-set.ts'

export interface DuplicateVoteEvidence {
  /** The equivocating validator. */
  validator: Address
  voteA: SignedVote
  voteB: SignedVote
}

/** Evidence from two conflicting votes of `validator`, in canonical order. */
export function duplicateVoteEvidence(validator: Address, a: SignedVote, b: SignedVote): DuplicateVoteEvidence {
  const order = (v: SignedVote): string => (v.blockHash === null ? '' : hashKey(v.blockHash))
  return order(a) <= order(b) ? { validator, voteA: a, voteB: b } : { validator, voteA: b, voteB: a }
}

/** The key the pool deduplicates on: one piece of evidence per (validator, height, round, type). */
export function evidenceKey(ev: DuplicateVoteEvidence): string {
  return `${hashKey(ev.validator)}/${ev.voteA.height}/${ev.voteA.round}/${ev.voteA.type}`
}

function invalid(message: string): CairnError {
  return new CairnError(ConsensusErrorCode.BFT_INVALID_EVIDENCE, `duplicate-vote evidence: ${message}`, {
    fault: 'peer',
  })
}

/**
 * Checks the evidence stands alone: same height, round and type, different hashes, both signatures
 * by `ev.validator`, a member of `validators` (the set of that height), under its scheme (`hybrid`:
 * both ML-DSA parts too, against the set's key: `verifyVoteSignature`).
 * @throws CairnError `CONSENSUS_BFT_INVALID_EVIDENCE` (fault 'peer')
 */
export function verifyDuplicateVoteEvidence(
  ev: DuplicateVoteEvidence,
  validators: ValidatorSet,
  chainId: bigint,
  recover: (digest: Uint8Array, signature: Uint8Array) => Uint8Array | null = recoverSigner,
): void {
  const { voteA: a, voteB: b } = ev
  if (a.height !== b.height || a.round !== b.round || a.type !== b.type) {
    throw invalid('the votes are for different heights, rounds or types')
  }
  if (a.type !== MsgType.PREVOTE && a.type !== MsgType.PRECOMMIT) throw invalid(`unknown vote type ${a.type}`)
  if (hashKey(a.blockHash) === hashKey(b.blockHash)) throw invalid('the votes are for the same block')
  if (validators.indexOf(ev.validator) < 0) throw invalid(`${hashKey(ev.validator)} is not a validator`)
  const signer = { address: ev.validator, pqPublicKey: validators.pqKeyOf(ev.validator) }
  for (const v of [a, b]) {
    const check = verifyVoteSignature(validators.scheme, voteDigest(chainId, v), v.signature, signer, { recover })
    if (!check.ok) throw invalid(`a vote is not signed by the validator: ${check.message}`)
  }
}

const EMPTY = new Uint8Array(0)
const ADDRESS_BYTES = 20

/**
 * The RLP bytes of the evidence. Its signatures' length says the scheme (65, 3,309 or 3,374
 * bytes): ML-DSA-65 signatures (3,309) add the validator's address, the other schemes' do not.
 */
export function encodeEvidence(ev: DuplicateVoteEvidence): Uint8Array {
  const { voteA: a, voteB: b } = ev
  const items = [a.height, a.round, a.type, [a.blockHash ?? EMPTY, a.signature], [b.blockHash ?? EMPTY, b.signature]]
  return RLP.encode(a.signature.length === signatureBytes('ml-dsa-65') ? [...items, ev.validator] : items)
}

/**
 * Evidence from its RLP bytes, each signature of `scheme`'s length; the validator is recovered from
 * the first signature's secp256k1 part (its first 65 bytes; the ML-DSA parts are checked by
 * {@link verifyDuplicateVoteEvidence}), or under `ml-dsa-65` read from the sixth item (checked
 * there too: a member of the set of the evidence's height whose key verifies both signatures).
 * @throws CairnError `CONSENSUS_BFT_MALFORMED` or `CONSENSUS_BFT_INVALID_EVIDENCE` (fault 'peer')
 */
export function decodeEvidence(
  bytes: Uint8Array,
  chainId: bigint,
  scheme: SignatureScheme = 'secp256k1',
): DuplicateVoteEvidence {
  const sigBytes = signatureBytes(scheme)
  const malformed = (why: string, cause?: unknown): CairnError =>
    new CairnError(ConsensusErrorCode.BFT_MALFORMED, `duplicate-vote evidence: ${why}`, { fault: 'peer', cause })
  let d: unknown
  try {
    d = RLP.decode(bytes)
  } catch (err) {
    throw malformed('not RLP', err)
  }
  const named = scheme === 'ml-dsa-65'
  const items = named ? 6 : 5
  if (!Array.isArray(d) || d.length !== items) throw malformed(`expected a list of ${items} items`)
  let claimed: Uint8Array | undefined
  if (named) {
    const x: unknown = d[5]
    if (!(x instanceof Uint8Array) || x.length !== ADDRESS_BYTES) throw malformed('bad validator address')
    claimed = x
  }
  const num = (x: unknown): number => {
    if (!(x instanceof Uint8Array) || x.length > 6) throw malformed('bad integer')
    let n = 0
    for (const byte of x) n = n * 256 + byte
    return n
  }
  const height = num(d[0])
  const round = num(d[1])
  const type = num(d[2])
  if (type !== MsgType.PREVOTE && type !== MsgType.PRECOMMIT) throw malformed(`unknown vote type ${type}`)
  const vote = (x: unknown): SignedVote => {
    if (!Array.isArray(x) || x.length !== 2) throw malformed('a vote is not [hash, signature]')
    const [hash, signature] = x as unknown[]
    if (!(hash instanceof Uint8Array) || (hash.length !== 0 && hash.length !== 32)) throw malformed('bad block hash')
    if (!(signature instanceof Uint8Array) || signature.length !== sigBytes) throw malformed('bad signature')
    return { type, height, round, blockHash: hash.length === 0 ? null : hash, signature }
  }
  const voteA = vote(d[3])
  const voteB = vote(d[4])
  if (claimed !== undefined) return { validator: claimed, voteA, voteB }
  const validator = recoverSigner(voteDigest(chainId, voteA), voteA.signature.subarray(0, SECP_SIGNATURE_BYTES))
  if (validator === null) throw invalid('the first signature recovers no signer')
  return { validator, voteA, voteB }
}

// The pool moved to evidence-pool.ts (verification, age limit, bound, block encoding); still
// exported from here for the importers of this module.
export { EvidencePool } from './evidence-pool.ts'
