/**
 * The memory-hard seal of a proof-of-work header, in Ethereum's own seal fields so that every
 * Ethereum tool still decodes the block:
 *
 * - the **seal hash** is keccak-256 of the header's RLP without `mixHash` and `nonce` (Ethash's
 *   "hash without nonce", as geth's `SealHash`), so it commits to everything else, `difficulty`
 *   included;
 * - the **proof** is Argon2id(seal hash ‖ nonce, salt {@link SEAL_SALT}) with the chain's memory
 *   and passes ({@link SealParams}), 32 bytes, read as a big-endian 256-bit number;
 * - `nonce` (8 bytes) is the miner's counter, and `mixHash` holds the proof itself.
 *
 * A header is sealed when its proof is at most the target and `mixHash` is that proof. The target
 * comes from the difficulty rule (ASERT, `asert.ts`), computed from the parent: the header's
 * `difficulty` must be the work of that target ({@link checkDifficulty}), which makes Ethereum's
 * total difficulty the chain's total work. Verifying costs one Argon2id: `mixHash` above the target
 * is refused before it (for free), so only a header claiming enough work makes a node spend the
 * memory; docs/consensus/pow.md has the measured costs.
 */
import { argon2id, keccak256 } from '@cairn/crypto'
import { bytesToHex, CairnError } from '@cairn/utils'
import { type BlockHeader, createBlockHeaderFromBytesArray } from '@ethereumjs/block'
import { RLP } from '@ethereumjs/rlp'
import { TWO_256 } from './compact-bits.ts'
import { PowErrorCode } from './errors.ts'
import { workOf } from './work.ts'

/** The seal's chain parameters: what one attempt (and one verification) costs. */
export interface SealParams {
  /** Argon2id memory per attempt, in KiB (1024 = 1 MiB). */
  memoryKiB: number
  /** Argon2id passes over that memory. */
  iterations: number
}

/**
 * The defaults: 1 MiB and one pass. On the machine docs/consensus/pow.md measures on (2 MiB of L2
 * per core), a verification takes ~2 ms when its thread runs alone and ~4–8 ms of CPU under a
 * load of 15 on 2 cores, within the 10 ms; 2 MiB spills out of L2 (~6–7 ms alone, 6–12
 * ms of CPU under that load) and would not keep the bound on a busy node.
 */
export const DEFAULT_SEAL_PARAMS: Readonly<SealParams> = Object.freeze({ memoryKiB: 1024, iterations: 1 })

/** Bounds a chain's seal parameters must respect (a verification above 64 MiB would not fit 10 ms anywhere). */
export const SEAL_PARAM_BOUNDS = Object.freeze({ minMemoryKiB: 64, maxMemoryKiB: 65_536, maxIterations: 8 })

/** Argon2id's salt for the seal: fixed, a domain separator (the seal hash and nonce are the password). */
export const SEAL_SALT = new TextEncoder().encode('cairn/pow/argon2id/v1')

/** The seal a miner found: the header's `mixHash` and `nonce`. */
export interface Seal {
  mixHash: Uint8Array
  nonce: Uint8Array
}

/** Where `mixHash` and `nonce` sit in an Ethereum header's RLP list. */
const MIX_HASH_INDEX = 13
const NONCE_INDEX = 14

/** Refuses seal parameters out of {@link SEAL_PARAM_BOUNDS}. @throws CairnError `CONSENSUS_POW_INVALID_PARAMS` */
export function checkSealParams(params: SealParams): void {
  const { minMemoryKiB, maxMemoryKiB, maxIterations } = SEAL_PARAM_BOUNDS
  const ok =
    Number.isInteger(params.memoryKiB) &&
    params.memoryKiB >= minMemoryKiB &&
    params.memoryKiB <= maxMemoryKiB &&
    Number.isInteger(params.iterations) &&
    params.iterations >= 1 &&
    params.iterations <= maxIterations
  if (!ok) {
    throw new CairnError(
      PowErrorCode.INVALID_PARAMS,
      `seal parameters memoryKiB=${String(params.memoryKiB).slice(0, 20)} iterations=${String(params.iterations).slice(0, 20)} are out of range`,
      {
        fault: 'caller',
        hint: `memoryKiB in [${minMemoryKiB}, ${maxMemoryKiB}], iterations in [1, ${maxIterations}]`,
      },
    )
  }
}

/** keccak-256 of the header's RLP without `mixHash` and `nonce`: what the seal commits to. */
export function sealHash(header: BlockHeader): Uint8Array {
  const raw = header.raw()
  return keccak256(RLP.encode([...raw.slice(0, MIX_HASH_INDEX), ...raw.slice(NONCE_INDEX + 1)]))
}

/** A nonce as the header's 8 big-endian bytes. */
export function nonceBytes(nonce: bigint): Uint8Array {
  if (nonce < 0n || nonce >= 1n << 64n) {
    throw new CairnError(PowErrorCode.INVALID_PARAMS, `a nonce must be in [0, 2^64), got ${nonce}`, { fault: 'caller' })
  }
  const out = new Uint8Array(8)
  new DataView(out.buffer).setBigUint64(0, nonce)
  return out
}

/** One attempt: Argon2id(seal hash ‖ nonce), 32 bytes (the proof `mixHash` must hold). */
export async function sealProof(hash: Uint8Array, nonce: Uint8Array, params: SealParams): Promise<Uint8Array> {
  checkSealParams(params)
  const password = new Uint8Array(40)
  password.set(hash, 0)
  password.set(nonce, 32)
  return argon2id(password, SEAL_SALT, { memoryKiB: params.memoryKiB, iterations: params.iterations })
}

/** A 32-byte big-endian value as a number. */
export function proofValue(proof: Uint8Array): bigint {
  return proof.length === 0 ? 0n : BigInt(bytesToHex(proof))
}

/**
 * One mining attempt on `header` with `nonce` (its own `mixHash`/`nonce` are ignored): the seal
 * when the proof meets `target`, else undefined. A miner computes {@link sealHash} once per
 * template and calls {@link trySealHash} instead.
 */
export async function trySeal(
  header: BlockHeader,
  nonce: bigint,
  params: SealParams,
  target: bigint,
): Promise<Seal | undefined> {
  return trySealHash(sealHash(header), nonce, params, target)
}

/** {@link trySeal} from a seal hash computed once. */
export async function trySealHash(
  hash: Uint8Array,
  nonce: bigint,
  params: SealParams,
  target: bigint,
): Promise<Seal | undefined> {
  checkTarget(target)
  const n = nonceBytes(nonce)
  const proof = await sealProof(hash, n, params)
  return proofValue(proof) <= target ? { mixHash: proof, nonce: n } : undefined
}

/** `header` with `seal` in its `mixHash` and `nonce` (every other field, and its common, kept). */
export function withSeal(header: BlockHeader, seal: Seal): BlockHeader {
  const raw = header.raw()
  raw[MIX_HASH_INDEX] = seal.mixHash
  raw[NONCE_INDEX] = seal.nonce
  return createBlockHeaderFromBytesArray(raw, { common: header.common })
}

/**
 * Checks a header's seal against `target` (the difficulty rule's, from the parent): its `mixHash`
 * is at most the target (checked first, costs nothing) and is the Argon2id proof of its seal hash
 * and nonce (one Argon2id).
 * @throws CairnError `CONSENSUS_POW_INSUFFICIENT_WORK` (above the target) or
 *   `CONSENSUS_POW_INVALID_SEAL` (not the proof); both the sender's fault
 */
export async function verifySeal(header: BlockHeader, params: SealParams, target: bigint): Promise<void> {
  checkTarget(target)
  const claimed = proofValue(header.mixHash)
  if (claimed > target) {
    throw new CairnError(
      PowErrorCode.INSUFFICIENT_WORK,
      `block ${header.number}: its seal ${bytesToHex(header.mixHash)} is above the target 0x${target.toString(16)}`,
      { fault: 'caller', meta: { number: header.number.toString() } },
    )
  }
  const proof = await sealProof(sealHash(header), header.nonce, params)
  if (bytesToHex(proof) !== bytesToHex(header.mixHash)) {
    throw new CairnError(
      PowErrorCode.INVALID_SEAL,
      `block ${header.number}: mixHash ${bytesToHex(header.mixHash)} is not the Argon2id proof of its seal hash and nonce ${bytesToHex(header.nonce)}`,
      { fault: 'caller', meta: { number: header.number.toString() } },
    )
  }
}

/**
 * Checks that a header's `difficulty` is the work of `target` (2^256 / (target + 1)), the target the
 * difficulty rule gives its parent: a header cannot claim another target, nor more work.
 * @throws CairnError `CONSENSUS_POW_WRONG_DIFFICULTY`
 */
export function checkDifficulty(header: BlockHeader, target: bigint): void {
  checkTarget(target)
  const want = workOf(target)
  if (header.difficulty !== want) {
    throw new CairnError(
      PowErrorCode.WRONG_DIFFICULTY,
      `block ${header.number}: difficulty ${header.difficulty}, the difficulty rule gives ${want} (target 0x${target.toString(16)})`,
      { fault: 'caller', meta: { number: header.number.toString() } },
    )
  }
}

function checkTarget(target: bigint): void {
  if (target <= 0n || target >= TWO_256) {
    throw new CairnError(PowErrorCode.INVALID_PARAMS, 'a target must be in [1, 2^256)', { fault: 'internal' })
  }
}
