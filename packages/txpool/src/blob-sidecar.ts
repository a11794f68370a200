import { type BlobKzg, BYTES_PER_BLOB, CELLS_PER_EXT_BLOB, sha256 } from '@cairn/crypto'
import { CairnError } from '@cairn/utils'
import type { Common } from '@ethereumjs/common'
import { RLP } from '@ethereumjs/rlp'
import { createBlob4844TxFromBytesArray, type TypedTransaction } from '@ethereumjs/tx'
import { TX_POOL_MESSAGES, TxPoolErrorCode } from './errors.ts'

/**
 * The blobs of a blob (type-3) transaction as it travels the network (EIP-4844's "network wrapper"):
 * never part of a block, kept by the pool beside the transaction and dropped with it.
 * Version 0: one KZG proof per blob (Cancun, Prague). Version 1 (EIP-7594, Osaka on):
 * {@link CELLS_PER_EXT_BLOB} cell proofs per blob, blob-major.
 */
export interface BlobSidecar {
  version: 0 | 1
  blobs: Uint8Array[]
  commitments: Uint8Array[]
  proofs: Uint8Array[]
}

const BYTES_PER_COMMITMENT = 48
const BYTES_PER_PROOF = 48
const VERSIONED_HASH_KZG = 0x01
const BLOB_TX_TYPE = 3

/** A blob transaction and its sidecar, decoded from the network form. */
export interface BlobNetworkTx {
  tx: TypedTransaction
  sidecar: BlobSidecar
}

/**
 * Decodes `0x03 || rlp([tx_payload_body, blobs, commitments, proofs])` (version 0) or
 * `0x03 || rlp([tx_payload_body, wrapper_version, blobs, commitments, cell_proofs])` (EIP-7594,
 * version 1). Returns `undefined` for anything else (a type-3 transaction in its canonical form,
 * or another type), which the caller decodes as usual. Throws on a malformed wrapper. The proofs
 * are not verified here: {@link verifySidecar} does that.
 */
export function decodeBlobNetworkTx(common: Common, bytes: Uint8Array): BlobNetworkTx | undefined {
  if (bytes[0] !== BLOB_TX_TYPE) return undefined
  const values = RLP.decode(bytes.subarray(1)) as unknown
  if (!Array.isArray(values) || !Array.isArray(values[0])) return undefined
  let version: 0 | 1
  let parts: unknown[]
  if (values.length === 4) {
    version = 0
    parts = values.slice(1)
  } else if (values.length === 5) {
    const v = values[1]
    if (!(v instanceof Uint8Array) || v.length !== 1 || v[0] !== 1) {
      throw malformed(`unsupported blob sidecar (network wrapper) version ${describe(v)}`)
    }
    version = 1
    parts = values.slice(2)
  } else {
    throw malformed(`blob transaction network form: expected 4 or 5 elements, got ${values.length}`)
  }
  const [blobs, commitments, proofs] = parts.map((p, i) => byteList(p, ['blobs', 'commitments', 'proofs'][i] as string))
  const tx = createBlob4844TxFromBytesArray(values[0] as Parameters<typeof createBlob4844TxFromBytesArray>[0], {
    common,
  })
  return {
    tx,
    sidecar: {
      version,
      blobs: blobs as Uint8Array[],
      commitments: commitments as Uint8Array[],
      proofs: proofs as Uint8Array[],
    },
  }
}

function byteList(v: unknown, what: string): Uint8Array[] {
  if (!Array.isArray(v) || v.some((x) => !(x instanceof Uint8Array))) {
    throw malformed(`blob transaction network form: ${what} must be a list of byte strings`)
  }
  return v as Uint8Array[]
}

function describe(v: unknown): string {
  return v instanceof Uint8Array
    ? String(v.length === 0 ? 0 : v.length === 1 ? v[0] : `0x${Buffer.from(v).toString('hex')}`)
    : 'list'
}

/** The versioned hash of a KZG commitment: 0x01 || sha256(commitment)[1:]. */
export function versionedHash(commitment: Uint8Array): Uint8Array {
  const h = sha256(commitment)
  h[0] = VERSIONED_HASH_KZG
  return h
}

/** The sidecar version a chain at `common`'s fork accepts: 1 from Osaka (EIP-7594), else 0. */
export function sidecarVersionFor(common: Common): 0 | 1 {
  return common.isActivatedEIP(7594) ? 1 : 0
}

/**
 * geth's blob sidecar checks (core/txpool/validation.go), cheapest first: as many blobs and
 * commitments as versioned hashes, every blob, commitment and proof of its size, each versioned
 * hash that of its commitment, the expected number of proofs for the version, then the KZG proofs
 * (batched). Throws a CairnError (caller's fault) naming what is wrong.
 */
export async function verifySidecar(tx: TypedTransaction, sidecar: BlobSidecar, kzg: BlobKzg): Promise<void> {
  const hashes = (tx as unknown as { blobVersionedHashes: string[] }).blobVersionedHashes
  const { blobs, commitments, proofs } = sidecar
  if (blobs.length !== hashes.length) {
    throw invalidSidecar(`invalid number of ${blobs.length} blobs compared to ${hashes.length} blob hashes`)
  }
  if (commitments.length !== hashes.length) {
    throw invalidSidecar(
      `invalid number of ${commitments.length} blob commitments compared to ${hashes.length} blob hashes`,
    )
  }
  const perBlob = sidecar.version === 1 ? CELLS_PER_EXT_BLOB : 1
  if (proofs.length !== hashes.length * perBlob) {
    throw invalidSidecar(`invalid number of ${proofs.length} blob proofs expected ${hashes.length * perBlob}`)
  }
  for (let i = 0; i < blobs.length; i++) {
    if ((blobs[i] as Uint8Array).length !== BYTES_PER_BLOB) {
      throw invalidSidecar(`blob ${i}: ${(blobs[i] as Uint8Array).length} bytes, expected ${BYTES_PER_BLOB}`)
    }
    const c = commitments[i] as Uint8Array
    if (c.length !== BYTES_PER_COMMITMENT) throw invalidSidecar(`commitment ${i}: ${c.length} bytes, expected 48`)
    const computed = hex(versionedHash(c))
    const want = (hashes[i] as string).toLowerCase()
    if (computed !== want)
      throw invalidSidecar(`blob ${i}: computed hash ${computed} mismatches transaction one ${want}`)
  }
  for (let i = 0; i < proofs.length; i++) {
    if ((proofs[i] as Uint8Array).length !== BYTES_PER_PROOF) {
      throw invalidSidecar(`proof ${i}: ${(proofs[i] as Uint8Array).length} bytes, expected 48`)
    }
  }
  let ok: boolean
  let why = ''
  try {
    ok =
      sidecar.version === 1
        ? await kzg.verifyCellProofs(blobs, commitments, proofs)
        : await kzg.verifyBlobProofs(blobs, commitments, proofs)
  } catch (err) {
    if (err instanceof CairnError && err.fault !== 'caller') throw err // the KZG backend failed, not the proofs
    ok = false
    why = `: ${err instanceof Error ? err.message : String(err)}`
  }
  if (!ok) {
    throw new CairnError(
      TxPoolErrorCode.BLOB_PROOF_INVALID,
      `${TX_POOL_MESSAGES[TxPoolErrorCode.BLOB_PROOF_INVALID]}${why}`,
      {
        fault: 'caller',
        hint: 'the KZG proofs must be computed from these blobs and commitments (cell proofs from Osaka on)',
      },
    )
  }
}

/**
 * A version-0 sidecar as version 1: its blob proofs checked, then each blob's cell proofs computed
 * (geth converts a legacy sidecar sent to eth_sendRawTransaction once Osaka is active, so wallets
 * and libraries that still send one proof per blob keep working). Costs ~0.4–0.8 s per blob natively.
 */
export async function toCellProofSidecar(
  tx: TypedTransaction,
  sidecar: BlobSidecar,
  kzg: BlobKzg,
): Promise<BlobSidecar> {
  if (sidecar.version === 1) return sidecar
  await verifySidecar(tx, sidecar, kzg)
  const proofs = (await Promise.all(sidecar.blobs.map((b) => kzg.computeCellProofs(b)))).flat()
  return { version: 1, blobs: sidecar.blobs, commitments: sidecar.commitments, proofs }
}

/** The network form of a blob transaction with its sidecar (what eth_sendRawTransaction takes). */
export function encodeBlobNetworkTx(tx: TypedTransaction, sidecar: BlobSidecar): Uint8Array {
  const body = tx.raw() as Uint8Array[]
  const list =
    sidecar.version === 1
      ? [body, Uint8Array.of(1), sidecar.blobs, sidecar.commitments, sidecar.proofs]
      : [body, sidecar.blobs, sidecar.commitments, sidecar.proofs]
  const rlp = RLP.encode(list)
  const out = new Uint8Array(rlp.length + 1)
  out[0] = BLOB_TX_TYPE
  out.set(rlp, 1)
  return out
}

/** Bytes of blob data a sidecar holds (what the pool's `blobCap` counts). */
export function sidecarBytes(sidecar: BlobSidecar): number {
  return sidecar.blobs.length * BYTES_PER_BLOB
}

function malformed(detail: string): CairnError {
  return new CairnError(TxPoolErrorCode.BLOB_SIDECAR_INVALID, detail, { fault: 'caller' })
}

function invalidSidecar(detail: string): CairnError {
  return new CairnError(TxPoolErrorCode.BLOB_SIDECAR_INVALID, detail, {
    fault: 'caller',
    hint: 'the sidecar must carry one blob and commitment per versioned hash, and the proofs its version needs',
  })
}

function hex(b: Uint8Array): string {
  return `0x${Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')}`
}
