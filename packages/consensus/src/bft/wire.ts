/**
 * The messages validators exchange on the consensus topic, as RLP: `[kind, nonce, …fields]`.
 *
 * - proposal `[1, nonce, height, round, polRound + 1, blockHash, block, signature]`
 * - vote `[2, nonce, type, height, round, blockHash | "", signature]`
 *
 *   Under `ml-dsa-65` both gain a last field, the signer's 20-byte address (`validator`: an
 *   ML-DSA signature recovers no signer): `[…, signature, validator]`. Under secp256k1 and hybrid
 *   they are as above, byte for byte.
 * - commit `[3, nonce, block, certificate]`: a committed block with its certificate (catch-up)
 * - status `[4, nonce, height]`: the height the sender decides (a peer ahead answers with commits)
 * - evidence `[5, nonce, evidence]`: duplicate-vote evidence, `encodeEvidence` bytes (decoded and
 *   verified by the receiver, which knows the chain id and the validator sets)
 *
 * The nonce makes a retransmission differ from the first copy (gossipsub drops a message whose
 * bytes it has seen); it means nothing else.
 */
import { CairnError } from '@cairn/utils'
import { RLP } from '@ethereumjs/rlp'
import { ConsensusErrorCode } from '../errors.ts'
import { type CommitCertificate, decodeCertificate, encodeCertificate } from './certificate.ts'
import { MsgType, type SignedProposal, type SignedVote } from './messages.ts'
import { type SignatureScheme, signatureBytes } from './pq/scheme.ts'

/** Bytes of an address (the `validator` field under `ml-dsa-65`). */
const ADDRESS_BYTES = 20

export type WireMessage =
  | { kind: 'proposal'; proposal: SignedProposal }
  | { kind: 'vote'; vote: SignedVote }
  | { kind: 'commit'; block: Uint8Array; certificate: CommitCertificate }
  | { kind: 'status'; height: number }
  | { kind: 'evidence'; evidence: Uint8Array }

const KIND = { proposal: 1, vote: 2, commit: 3, status: 4, evidence: 5 } as const
const EMPTY = new Uint8Array()

export function encodeWire(msg: WireMessage, nonce: number): Uint8Array {
  switch (msg.kind) {
    case 'proposal': {
      const p = msg.proposal
      const fields = [KIND.proposal, nonce, p.height, p.round, p.polRound + 1, p.blockHash, p.block, p.signature]
      return RLP.encode(p.validator === undefined ? fields : [...fields, p.validator])
    }
    case 'vote': {
      const v = msg.vote
      const fields = [KIND.vote, nonce, v.type, v.height, v.round, v.blockHash ?? EMPTY, v.signature]
      return RLP.encode(v.validator === undefined ? fields : [...fields, v.validator])
    }
    case 'commit':
      return RLP.encode([KIND.commit, nonce, msg.block, encodeCertificate(msg.certificate)])
    case 'status':
      return RLP.encode([KIND.status, nonce, msg.height])
    case 'evidence':
      return RLP.encode([KIND.evidence, nonce, msg.evidence])
  }
}

function malformed(message: string): CairnError {
  return new CairnError(ConsensusErrorCode.BFT_MALFORMED, `consensus message: ${message}`, { fault: 'peer' })
}

function uint(v: unknown, what: string): number {
  if (!(v instanceof Uint8Array) || v.length > 6 || (v.length > 0 && v[0] === 0)) throw malformed(`bad ${what}`)
  let n = 0
  for (const b of v) n = n * 256 + b
  return n
}

function bytes(v: unknown, what: string, length?: number): Uint8Array {
  if (!(v instanceof Uint8Array) || (length !== undefined && v.length !== length)) throw malformed(`bad ${what}`)
  return v
}

/**
 * A consensus message from its bytes, signatures of `scheme`'s length (the chain's); under
 * `ml-dsa-65` votes and proposals carry the signer's address as a last field (and must). Field
 * counts and the sizes of the signature and the address are checked before any other field.
 * @throws CairnError `CONSENSUS_BFT_MALFORMED` (fault 'peer')
 */
export function decodeWire(data: Uint8Array, scheme: SignatureScheme = 'secp256k1'): WireMessage {
  const sigBytes = signatureBytes(scheme)
  // Under ml-dsa-65 a vote or a proposal names its signer: one more field.
  const named = scheme === 'ml-dsa-65' ? 1 : 0
  let d: unknown
  try {
    d = RLP.decode(data)
  } catch {
    throw malformed('not RLP')
  }
  if (!Array.isArray(d) || d.length < 3) throw malformed('not a list')
  const f = d as unknown[]
  const kind = uint(f[0], 'kind')
  switch (kind) {
    case KIND.proposal: {
      if (f.length !== 8 + named) throw malformed(`proposal: ${8 + named} fields expected`)
      const signature = bytes(f[7], 'signature', sigBytes)
      const validator = named === 1 ? bytes(f[8], 'validator address', ADDRESS_BYTES) : undefined
      return {
        kind: 'proposal',
        proposal: {
          height: uint(f[2], 'height'),
          round: uint(f[3], 'round'),
          polRound: uint(f[4], 'polRound') - 1,
          blockHash: bytes(f[5], 'block hash', 32),
          block: bytes(f[6], 'block'),
          signature,
          ...(validator !== undefined ? { validator } : {}),
        },
      }
    }
    case KIND.vote: {
      if (f.length !== 7 + named) throw malformed(`vote: ${7 + named} fields expected`)
      const signature = bytes(f[6], 'signature', sigBytes)
      const validator = named === 1 ? bytes(f[7], 'validator address', ADDRESS_BYTES) : undefined
      const type = uint(f[2], 'vote type')
      if (type !== MsgType.PREVOTE && type !== MsgType.PRECOMMIT) throw malformed('bad vote type')
      const hash = bytes(f[5], 'block hash')
      if (hash.length !== 0 && hash.length !== 32) throw malformed('bad block hash')
      return {
        kind: 'vote',
        vote: {
          type,
          height: uint(f[3], 'height'),
          round: uint(f[4], 'round'),
          blockHash: hash.length === 0 ? null : hash,
          signature,
          ...(validator !== undefined ? { validator } : {}),
        },
      }
    }
    case KIND.commit:
      if (f.length !== 4) throw malformed('commit: 4 fields expected')
      return {
        kind: 'commit',
        block: bytes(f[2], 'block'),
        certificate: decodeCertificate(bytes(f[3], 'certificate'), scheme),
      }
    case KIND.status:
      if (f.length !== 3) throw malformed('status: 3 fields expected')
      return { kind: 'status', height: uint(f[2], 'height') }
    case KIND.evidence:
      if (f.length !== 3) throw malformed('evidence: 3 fields expected')
      return { kind: 'evidence', evidence: bytes(f[2], 'evidence') }
    default:
      throw malformed(`unknown kind ${kind}`)
  }
}
