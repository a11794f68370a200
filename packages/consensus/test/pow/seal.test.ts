// The memory-hard seal: a header mined with trySeal verifies, still decodes as an Ethereum header
// with its seal in mixHash/nonce, and pins the seal format (a fixed header's proof, checked against
// the pure-JS Argon2id independently); every way of getting it wrong is refused with its own code:
// a proof that is not Argon2id of the header (a changed field, nonce or mixHash), a genuine proof
// above the target, a difficulty that is not the target's work, parameters out of range.
import { jsArgon2id } from '@cairn/crypto'
import { bytesToHex, hexToBytes, isCairnError } from '@cairn/utils'
import {
  type BlockHeader,
  createBlockHeader,
  createBlockHeaderFromBytesArray,
  createBlockHeaderFromRLP,
} from '@ethereumjs/block'
import { Common, Hardfork, Mainnet } from '@ethereumjs/common'
import { type Hex, keccak256, toHex, toRlp } from 'viem'
import { describe, expect, it } from 'vitest'
import { TWO_256 } from '../../src/pow/compact-bits.ts'
import { PowErrorCode } from '../../src/pow/errors.ts'
import {
  checkDifficulty,
  checkSealParams,
  DEFAULT_SEAL_PARAMS,
  nonceBytes,
  SEAL_SALT,
  type SealParams,
  sealHash,
  sealProof,
  trySeal,
  trySealHash,
  verifySeal,
  withSeal,
} from '../../src/pow/seal.ts'
import { workOf } from '../../src/pow/work.ts'

// A proof-of-work hardfork (London): Ethereum's own checks leave mixHash and nonce to the engine.
const common = new Common({ chain: Mainnet, hardfork: Hardfork.London })
const PARAMS: SealParams = { memoryKiB: 64, iterations: 1 }
const EASY = TWO_256 / 4n // one attempt in four meets it

function header(target: bigint, fields: Record<string, unknown> = {}): BlockHeader {
  return createBlockHeader(
    {
      parentHash: `0x${'11'.repeat(32)}`,
      coinbase: `0x${'22'.repeat(20)}`,
      number: 7n,
      gasLimit: 30_000_000n,
      timestamp: 1_700_000_000n,
      baseFeePerGas: 7n,
      extraData: '0xcafe',
      difficulty: workOf(target),
      ...fields,
    },
    { common },
  )
}

/** Mines `h` from nonce 0 (a few attempts at EASY). */
async function mine(h: BlockHeader, target: bigint): Promise<BlockHeader> {
  const hash = sealHash(h)
  for (let nonce = 0n; nonce < 1000n; nonce++) {
    const seal = await trySealHash(hash, nonce, PARAMS, target)
    if (seal) return withSeal(h, seal)
  }
  throw new Error('no seal in 1000 attempts')
}

async function codeOf(p: Promise<unknown> | (() => unknown)): Promise<string | undefined> {
  try {
    await (typeof p === 'function' ? p() : p)
  } catch (err) {
    return isCairnError(err) ? err.code : `not a CairnError: ${String(err)}`
  }
  return undefined
}

describe('the seal', () => {
  it('a mined header verifies, and decodes as an Ethereum header with its seal in mixHash and nonce', async () => {
    const sealed = await mine(header(EASY), EASY)
    await verifySeal(sealed, PARAMS, EASY)
    checkDifficulty(sealed, EASY)
    const decoded = createBlockHeaderFromRLP(sealed.serialize(), { common })
    expect(bytesToHex(decoded.hash())).toBe(bytesToHex(sealed.hash()))
    expect(bytesToHex(decoded.mixHash)).toBe(bytesToHex(sealed.mixHash))
    expect(decoded.nonce.length).toBe(8)
    // the seal hash ignores the seal; the block hash does not
    expect(bytesToHex(sealHash(decoded))).toBe(bytesToHex(sealHash(header(EASY))))
    expect(bytesToHex(sealed.hash())).not.toBe(bytesToHex(header(EASY).hash()))
  })

  it('is Argon2id(seal hash ‖ nonce) with the fixed salt, pinned on a fixed header', async () => {
    const h = header(EASY)
    const nonce = nonceBytes(0x0102030405060708n)
    const proof = await sealProof(sealHash(h), nonce, PARAMS)
    const independent = jsArgon2id(new Uint8Array([...sealHash(h), ...nonce]), SEAL_SALT, {
      memoryKiB: PARAMS.memoryKiB,
      iterations: PARAMS.iterations,
    })
    expect(bytesToHex(proof)).toBe(bytesToHex(independent))
    // the seal hash as geth's SealHash lists the fields, by name (viem's RLP and keccak)
    const j = h.toJSON()
    const q = (n: string | undefined) => (BigInt(n!) === 0n ? '0x' : toHex(BigInt(n!)))
    const fields = [j.parentHash, j.uncleHash, j.coinbase, j.stateRoot, j.transactionsTrie, j.receiptTrie]
    fields.push(j.logsBloom, q(j.difficulty), q(j.number), q(j.gasLimit), q(j.gasUsed), q(j.timestamp))
    fields.push(j.extraData, q(j.baseFeePerGas))
    expect(bytesToHex(sealHash(h))).toBe(keccak256(toRlp(fields as Hex[])))
    // the format is consensus: a change to it (fields, salt, layout) must show here
    expect(bytesToHex(sealHash(h))).toBe('0x67b4e39fd7b6754cec05779a51f4030a8b30dcc7593017c461fe586d72ee34ad')
    expect(bytesToHex(proof)).toBe('0xddadd857fb3364e64703d7aedcfc3982d616e85611e228facfcb8fa9e32311a7')
  })

  it('refuses a seal that is not the proof of this header: another field, nonce or mixHash', async () => {
    const sealed = await mine(header(EASY), EASY)
    const raw = sealed.raw()
    const tampered = (i: number, v: Uint8Array) => fromRaw(raw.map((x, j) => (j === i ? v : x)))
    // a different timestamp, same seal
    const later = tampered(11, hexToBytes('0x6553f101'))
    expect(await codeOf(verifySeal(later, PARAMS, EASY))).toBe(PowErrorCode.INVALID_SEAL)
    // another nonce
    const nonce = new Uint8Array(sealed.nonce)
    nonce[7] = (nonce[7]! + 1) % 256
    expect(await codeOf(verifySeal(tampered(14, nonce), PARAMS, EASY))).toBe(PowErrorCode.INVALID_SEAL)
    // a made-up mixHash below the target
    expect(await codeOf(verifySeal(tampered(13, new Uint8Array(32)), PARAMS, EASY))).toBe(PowErrorCode.INVALID_SEAL)
    // other Argon2id parameters than the chain's
    expect(await codeOf(verifySeal(sealed, { memoryKiB: 128, iterations: 1 }, EASY))).toBe(PowErrorCode.INVALID_SEAL)
  })

  it('refuses a genuine proof above the target, before any Argon2id', async () => {
    const sealed = await mine(header(EASY), EASY)
    const value = BigInt(bytesToHex(sealed.mixHash))
    const harder = value - 1n
    expect(await codeOf(verifySeal(sealed, PARAMS, harder))).toBe(PowErrorCode.INSUFFICIENT_WORK)
    // a mixHash of all ones costs nothing to refuse: even with parameters no Argon2id would accept
    const bogus = fromRaw(sealed.raw().map((v, i) => (i === 13 ? new Uint8Array(32).fill(0xff) : v)))
    expect(await codeOf(verifySeal(bogus, { memoryKiB: 1, iterations: 0 }, EASY))).toBe(PowErrorCode.INSUFFICIENT_WORK)
  })

  it('trySeal returns nothing when the proof misses the target', async () => {
    const h = header(EASY)
    // target 1: no proof will meet it
    expect(await trySeal(h, 0n, PARAMS, 1n)).toBeUndefined()
    const found = await trySeal(h, 0n, PARAMS, TWO_256 - 1n)
    expect(found?.nonce).toEqual(nonceBytes(0n))
  })

  it('refuses a difficulty that is not the work of the target', async () => {
    const h = header(EASY)
    checkDifficulty(h, EASY)
    expect(await codeOf(() => checkDifficulty(h, EASY / 2n))).toBe(PowErrorCode.WRONG_DIFFICULTY)
    expect(await codeOf(() => checkDifficulty(header(EASY, { difficulty: workOf(EASY) + 1n }), EASY))).toBe(
      PowErrorCode.WRONG_DIFFICULTY,
    )
  })

  it('refuses seal parameters out of range', async () => {
    for (const p of [
      { memoryKiB: 63, iterations: 1 },
      { memoryKiB: 65_537, iterations: 1 },
      { memoryKiB: 64, iterations: 0 },
      { memoryKiB: 64, iterations: 9 },
      { memoryKiB: 64.5, iterations: 1 },
    ]) {
      expect(await codeOf(() => checkSealParams(p))).toBe(PowErrorCode.INVALID_PARAMS)
    }
    checkSealParams(DEFAULT_SEAL_PARAMS)
    expect(await codeOf(() => nonceBytes(1n << 64n))).toBe(PowErrorCode.INVALID_PARAMS)
  })
})

function fromRaw(raw: Uint8Array[]): BlockHeader {
  return createBlockHeaderFromBytesArray(raw, { common })
}
