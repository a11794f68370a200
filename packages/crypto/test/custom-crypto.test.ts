import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { bytesToHex, hexToBytes } from '@cairn/utils'
import { Common, type CustomCrypto, Hardfork, Mainnet } from '@ethereumjs/common'
import {
  createAccessList2930Tx,
  createFeeMarket1559Tx,
  createLegacyTx,
  createTxFromRLP,
  type TypedTransaction,
} from '@ethereumjs/tx'
import { ecrecover as utilEcrecover } from '@ethereumjs/util'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  CryptoErrorCode,
  createCustomCrypto,
  ecdsaSign,
  initCrypto,
  jsSecp256k1,
  keccak256,
  nativeSecp256k1,
  privateKeyToPublicKey,
  recoveryFromV,
} from '../src/index.ts'

const PK = hexToBytes('0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80')
const SENDER = '0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266'
const TO = '0x70997970c51812dc3a010c7d01b50e0d17dc79c8'

// Type-level: our object must be assignable to @ethereumjs/common's CustomCrypto.
const customCrypto: CustomCrypto = createCustomCrypto()

const defaultCommon = new Common({ chain: Mainnet, hardfork: Hardfork.Prague })
const customCommon = new Common({ chain: Mainnet, hardfork: Hardfork.Prague, customCrypto })

const TX_1559 = {
  chainId: 1n,
  nonce: 2n,
  maxFeePerGas: 3n * 10n ** 9n,
  maxPriorityFeePerGas: 10n ** 9n,
  gasLimit: 60000n,
  to: TO,
  value: 5n,
  data: '0x01',
} as const

type Factory = (common: Common) => TypedTransaction
const txs: [string, Factory][] = [
  [
    'legacy (EIP-155)',
    (common) =>
      createLegacyTx({ nonce: 7n, gasPrice: 10n ** 9n, gasLimit: 21000n, to: TO, value: 10n ** 18n }, { common }),
  ],
  [
    'EIP-2930',
    (common) =>
      createAccessList2930Tx(
        {
          chainId: 1n,
          nonce: 1n,
          gasPrice: 2n * 10n ** 9n,
          gasLimit: 50000n,
          to: TO,
          value: 1n,
          data: '0xdeadbeef',
          accessList: [{ address: TO, storageKeys: [bytesToHex(new Uint8Array(32).fill(1))] }],
        },
        { common },
      ),
  ],
  ['EIP-1559', (common) => createFeeMarket1559Tx(TX_1559, { common })],
]

describe('createCustomCrypto with @ethereumjs/tx', () => {
  it.each(txs)('%s: same signature as the default crypto, sender recovered both ways', async (_name, make) => {
    await initCrypto()
    const byDefault = make(defaultCommon).sign(PK, false)
    const byCustom = make(customCommon).sign(PK, false)
    expect(byCustom.v).toBe(byDefault.v)
    expect(byCustom.r).toBe(byDefault.r)
    expect(byCustom.s).toBe(byDefault.s)
    expect(bytesToHex(byCustom.hash())).toBe(bytesToHex(byDefault.hash()))
    expect(byCustom.getSenderAddress().toString()).toBe(SENDER)
    expect(byDefault.getSenderAddress().toString()).toBe(SENDER)
    expect(byCustom.verifySignature()).toBe(true)

    // Cross: decode what one crypto signed with the other.
    const rlp = byCustom.serialize()
    expect(createTxFromRLP(rlp, { common: defaultCommon }).getSenderAddress().toString()).toBe(SENDER)
    expect(createTxFromRLP(byDefault.serialize(), { common: customCommon }).getSenderAddress().toString()).toBe(SENDER)
  })

  it.each(txs)('%s: hedged signing (tx.sign(pk, true)) still recovers the sender', (_name, make) => {
    const a = make(customCommon).sign(PK, true)
    const b = make(customCommon).sign(PK, true)
    expect(a.r === b.r && a.s === b.s).toBe(false)
    expect(a.getSenderAddress().toString()).toBe(SENDER)
    expect(createTxFromRLP(a.serialize(), { common: defaultCommon }).getSenderAddress().toString()).toBe(SENDER)
  })

  it('legacy tx signatures use v = 2 * chainId + 35/36', () => {
    const tx = createLegacyTx({ nonce: 0n, gasPrice: 1n, gasLimit: 21000n, to: TO }, { common: customCommon }).sign(
      PK,
      false,
    )
    expect(tx.v === 37n || tx.v === 38n).toBe(true)
  })

  it('rejects a tampered signature the same way as the default crypto', () => {
    const signed = createFeeMarket1559Tx(TX_1559, { common: customCommon }).sign(PK, false)
    // r = 5 is not the x coordinate of any curve point: no sender can be recovered.
    for (const common of [customCommon, defaultCommon]) {
      const tx = createFeeMarket1559Tx({ ...TX_1559, v: signed.v, r: 5n, s: signed.s }, { common })
      expect(tx.verifySignature()).toBe(false)
      expect(() => tx.getSenderAddress()).toThrow(/Invalid Signature/)
    }
  })
})

describe('ecrecover mirrors @ethereumjs/util ecrecover', () => {
  const outcome = (fn: () => Uint8Array): string => {
    try {
      return bytesToHex(fn())
    } catch {
      return 'throws'
    }
  }

  it('computes the recovery id from v and chainId like calculateSigRecovery', () => {
    expect(recoveryFromV(0n)).toBe(0n)
    expect(recoveryFromV(1n, 5n)).toBe(1n)
    expect(recoveryFromV(27n)).toBe(0n)
    expect(recoveryFromV(28n)).toBe(1n)
    expect(recoveryFromV(37n, 1n)).toBe(0n)
    expect(recoveryFromV(38n, 1n)).toBe(1n)
    expect(recoveryFromV(27n, 1n)).toBe(-10n)
  })

  it('same public key (or same failure) for every v encoding, chain id and unpadded r/s', () => {
    const cc = createCustomCrypto()
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.constantFrom(0n, 1n, 2n, 26n, 27n, 28n, 29n, 35n, 36n, 37n, 38n, 39n, 2n * 1337n + 35n, 2n * 1337n + 36n),
        fc.constantFrom(undefined, 1n, 1337n),
        fc.nat({ max: 3 }),
        (hash, v, chainId, strip) => {
          const sig = ecdsaSign(hash, PK)
          // Unpad like @ethereumjs/tx does (bigIntToUnpaddedBytes); stripping non-zero bytes changes r.
          const r = sig.r.subarray(strip)
          const s = sig.s
          const ours = outcome(() => cc.ecrecover(hash, v, r, s, chainId))
          const theirs = outcome(() => utilEcrecover(hash, v, r, s, chainId))
          expect(ours).toBe(theirs)
        },
      ),
      { numRuns: 300 },
    )
  })

  it('returns the 64-byte key without prefix, and throws CRYPTO_INVALID_SIGNATURE on bad v', () => {
    const cc = createCustomCrypto()
    const hash = keccak256(new Uint8Array([1]))
    const { r, s, recovery } = ecdsaSign(hash, PK)
    const pub = cc.ecrecover(hash, BigInt(27 + recovery), r, s)
    expect(pub.length).toBe(64)
    expect(pub).toEqual(privateKeyToPublicKey(PK).subarray(1))
    expect(() => cc.ecrecover(hash, 29n, r, s)).toThrowError(
      expect.objectContaining({ code: CryptoErrorCode.INVALID_SIGNATURE }),
    )
    expect(() => cc.ecrecover(hash, 27n, r, s, 1n)).toThrowError(
      expect.objectContaining({ code: CryptoErrorCode.INVALID_SIGNATURE }),
    )
    expect(() => cc.ecrecover(hash, 27n, new Uint8Array(33), s)).toThrowError(
      expect.objectContaining({ code: CryptoErrorCode.INVALID_SIGNATURE }),
    )
  })

  it('handles signatures whose r has leading zero bytes (unpadded by @ethereumjs)', () => {
    const cc = createCustomCrypto()
    let found = 0
    for (let i = 0; i < 5000 && found < 3; i++) {
      const hash = keccak256(Uint8Array.of(i & 0xff, i >> 8))
      const { r, s, recovery } = ecdsaSign(hash, PK)
      if (r[0] !== 0) continue
      found++
      const unpadded = r.subarray(r.findIndex((b) => b !== 0))
      expect(cc.ecrecover(hash, BigInt(recovery), unpadded, s)).toEqual(
        utilEcrecover(hash, BigInt(recovery), unpadded, s),
      )
    }
    expect(found).toBeGreaterThan(0)
  })

  it('ecdsaRecover follows secp256k1-compat (compressed by default)', () => {
    const cc = createCustomCrypto()
    const hash = keccak256(new Uint8Array([2]))
    const { r, s, recovery } = ecdsaSign(hash, PK)
    const sig = new Uint8Array([...r, ...s])
    expect(cc.ecdsaRecover(sig, recovery, hash)).toEqual(privateKeyToPublicKey(PK, true))
    expect(cc.ecdsaRecover(sig, recovery, hash, false)).toEqual(privateKeyToPublicKey(PK))
  })

  it('works with an explicit JS backend too', () => {
    const cc = createCustomCrypto({ backend: jsSecp256k1 })
    const common = new Common({ chain: Mainnet, hardfork: Hardfork.Prague, customCrypto: cc })
    const tx = createFeeMarket1559Tx(TX_1559, { common }).sign(PK, false)
    expect(tx.getSenderAddress().toString()).toBe(SENDER)
  })
})

// @noble/curves v2 is what @ethereumjs v10 uses by default; it lives nested under @ethereumjs/tx.
const nobleV2Path = fileURLToPath(
  new URL('../../../node_modules/@ethereumjs/tx/node_modules/@noble/curves/secp256k1.js', import.meta.url),
)

describe.skipIf(!existsSync(nobleV2Path))('ecsign matches @noble/curves v2 secp256k1.sign', () => {
  type SignFn = (msg: Uint8Array, pk: Uint8Array, opts?: Record<string, unknown>) => Uint8Array
  const load = async (): Promise<SignFn> => {
    const mod = (await import(nobleV2Path)) as { secp256k1: { sign: SignFn } }
    return mod.secp256k1.sign
  }
  const outcome = (fn: () => Uint8Array): string => {
    try {
      return bytesToHex(fn())
    } catch {
      return 'throws'
    }
  }

  it('for every option combination @ethereumjs or a user may pass', async () => {
    const nobleSign = await load()
    const backends = nativeSecp256k1 === null ? [jsSecp256k1] : [nativeSecp256k1, jsSecp256k1]
    const entropy32 = new Uint8Array(32).fill(7)
    const optionSets: (Record<string, unknown> | undefined)[] = [
      undefined,
      {},
      { prehash: false, format: 'recovered' },
      { prehash: false, format: 'recovered', extraEntropy: false },
      { prehash: false, format: 'recovered', extraEntropy: entropy32 },
      { prehash: false, format: 'compact', extraEntropy: new Uint8Array(5).fill(3) },
      { prehash: false, format: 'der' },
      { prehash: true, format: 'recovered' },
      { prehash: false, lowS: false, format: 'recovered' },
    ]
    for (const backend of backends) {
      const cc = createCustomCrypto({ backend })
      fc.assert(
        fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.constantFrom(...optionSets), (msg, opts) => {
          const ours = outcome(() => cc.ecsign(msg, PK, opts as never))
          expect(ours).toBe(outcome(() => nobleSign(msg, PK, opts)))
          expect(ours).not.toBe('throws')
        }),
        { numRuns: 150 },
      )
      // Odd message lengths with prehash: false go through the general (noble v1) path.
      for (const len of [1, 20, 31, 33, 64]) {
        const msg = new Uint8Array(len).fill(0xab)
        const opts = { prehash: false, format: 'recovered' as const }
        expect(outcome(() => cc.ecsign(msg, PK, opts))).toBe(outcome(() => nobleSign(msg, PK, opts)))
      }
    }
  })

  it('rejects an unknown format and invalid keys with CairnErrors', () => {
    const cc = createCustomCrypto()
    const msg = new Uint8Array(32).fill(1)
    expect(() => cc.ecsign(msg, PK, { format: 'weird' as never })).toThrowError(
      expect.objectContaining({ code: CryptoErrorCode.INVALID_ARGUMENT }),
    )
    expect(() => cc.ecsign(msg, new Uint8Array(32), { prehash: false })).toThrowError(
      expect.objectContaining({ code: CryptoErrorCode.INVALID_PRIVATE_KEY }),
    )
    expect(() => cc.ecsign(msg, new Uint8Array(32), { prehash: false, lowS: false })).toThrowError(
      expect.objectContaining({ code: CryptoErrorCode.INVALID_PRIVATE_KEY }),
    )
  })
})
