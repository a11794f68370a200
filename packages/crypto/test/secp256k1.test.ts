import { bytesToHex, hexToBytes } from '@cairn/utils'
import { SigningKey } from 'ethers'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  CryptoErrorCode,
  ecdsaRecover,
  ecdsaSign,
  isValidPrivateKey,
  jsSecp256k1,
  keccak256,
  nativeSecp256k1,
  privateKeyToAddress,
  privateKeyToPublicKey,
  publicKeyToAddress,
  type Secp256k1Backend,
  secp256k1,
  secp256k1Backend,
} from '../src/index.ts'

const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n
const HARDHAT_KEY_0 = hexToBytes('0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80')
const HARDHAT_ADDR_0 = '0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266'

const to32 = (v: bigint): Uint8Array => hexToBytes(`0x${v.toString(16).padStart(64, '0')}`)
const privateKeyArb = fc.bigInt({ min: 1n, max: N - 1n }).map(to32)
const hashArb = fc.uint8Array({ minLength: 32, maxLength: 32 })

const backends: Secp256k1Backend[] = nativeSecp256k1 === null ? [jsSecp256k1] : [nativeSecp256k1, jsSecp256k1]

function expectCode(fn: () => unknown, code: string): void {
  let thrown: unknown
  try {
    fn()
  } catch (err) {
    thrown = err
  }
  expect(thrown, `expected ${code}`).toMatchObject({ name: 'CairnError', code, fault: 'caller' })
}

describe('backend selection', () => {
  it('uses the native addon on linux-x64 and exposes both backends', () => {
    expect(jsSecp256k1.name).toBe('js')
    if (process.platform === 'linux' && process.arch === 'x64' && process.env.CAIRN_SECP256K1_BACKEND !== 'js') {
      expect(nativeSecp256k1?.name).toBe('native')
      expect(secp256k1Backend).toBe('native')
    }
    expect(secp256k1.name).toBe(secp256k1Backend)
  })
})

describe.each(backends.map((b) => [b.name, b] as const))('%s backend', (_name, backend) => {
  it('derives the hardhat account 0 address', () => {
    expect(bytesToHex(backend.privateKeyToAddress(HARDHAT_KEY_0))).toBe(HARDHAT_ADDR_0)
    const pub = backend.privateKeyToPublicKey(HARDHAT_KEY_0)
    expect(pub.length).toBe(65)
    expect(pub[0]).toBe(4)
    const compressed = backend.privateKeyToPublicKey(HARDHAT_KEY_0, true)
    expect(compressed.length).toBe(33)
    for (const form of [pub, pub.subarray(1), compressed]) {
      expect(bytesToHex(backend.publicKeyToAddress(form))).toBe(HARDHAT_ADDR_0)
    }
  })

  it('matches an independent implementation (ethers SigningKey) on a known digest', () => {
    const digest = keccak256(new TextEncoder().encode('cairn'))
    const sig = backend.ecdsaSign(digest, HARDHAT_KEY_0)
    const ref = new SigningKey(bytesToHex(HARDHAT_KEY_0)).sign(digest)
    expect(bytesToHex(sig.r)).toBe(ref.r)
    expect(bytesToHex(sig.s)).toBe(ref.s)
    expect(sig.recovery).toBe(ref.yParity)
  })

  it('sign then recover gives the public key, low-s, both compressed and not', () => {
    fc.assert(
      fc.property(privateKeyArb, hashArb, (pk, hash) => {
        const { r, s, recovery } = backend.ecdsaSign(hash, pk)
        expect(r.length).toBe(32)
        expect(s.length).toBe(32)
        expect(BigInt(bytesToHex(s)) <= N / 2n).toBe(true)
        const sig = new Uint8Array([...r, ...s])
        expect(backend.ecdsaRecover(sig, recovery, hash)).toEqual(backend.privateKeyToPublicKey(pk))
        expect(backend.ecdsaRecover(sig, recovery, hash, true)).toEqual(backend.privateKeyToPublicKey(pk, true))
      }),
      { numRuns: 30 },
    )
  })

  it('recovers from high-s signatures (as the ecrecover precompile must)', () => {
    const hash = keccak256(new Uint8Array([1, 2, 3]))
    const { r, s, recovery } = backend.ecdsaSign(hash, HARDHAT_KEY_0)
    const highS = to32(N - BigInt(bytesToHex(s)))
    const pub = backend.ecdsaRecover(new Uint8Array([...r, ...highS]), recovery ^ 1, hash)
    expect(pub).toEqual(backend.privateKeyToPublicKey(HARDHAT_KEY_0))
  })

  it('validates private keys', () => {
    expect(backend.isValidPrivateKey(HARDHAT_KEY_0)).toBe(true)
    expect(backend.isValidPrivateKey(new Uint8Array(32))).toBe(false)
    expect(backend.isValidPrivateKey(to32(N))).toBe(false)
    expect(backend.isValidPrivateKey(to32(N - 1n))).toBe(true)
    expect(backend.isValidPrivateKey(new Uint8Array(31).fill(1))).toBe(false)
    expect(backend.isValidPrivateKey('0x01')).toBe(false)
    const hash = new Uint8Array(32).fill(1)
    expectCode(() => backend.ecdsaSign(hash, new Uint8Array(32)), CryptoErrorCode.INVALID_PRIVATE_KEY)
    expectCode(() => backend.ecdsaSign(hash, to32(N)), CryptoErrorCode.INVALID_PRIVATE_KEY)
    expectCode(() => backend.ecdsaSign(hash, new Uint8Array(33).fill(1)), CryptoErrorCode.INVALID_PRIVATE_KEY)
    expectCode(() => backend.privateKeyToAddress(new Uint8Array(32)), CryptoErrorCode.INVALID_PRIVATE_KEY)
    expectCode(() => backend.privateKeyToPublicKey(to32(N + 1n)), CryptoErrorCode.INVALID_PRIVATE_KEY)
  })

  it('rejects bad hashes, recovery ids and signatures with CairnErrors', () => {
    const hash = keccak256(new Uint8Array([9]))
    const { r, s, recovery } = backend.ecdsaSign(hash, HARDHAT_KEY_0)
    const sig = new Uint8Array([...r, ...s])
    expectCode(() => backend.ecdsaSign(new Uint8Array(31), HARDHAT_KEY_0), CryptoErrorCode.INVALID_HASH)
    expectCode(() => backend.ecdsaRecover(sig, recovery, new Uint8Array(33)), CryptoErrorCode.INVALID_HASH)
    for (const bad of [2, 3, -1, 27, 0.5, Number.NaN]) {
      expectCode(() => backend.ecdsaRecover(sig, bad, hash), CryptoErrorCode.INVALID_SIGNATURE)
    }
    expectCode(() => backend.ecdsaRecover(new Uint8Array(64), 0, hash), CryptoErrorCode.INVALID_SIGNATURE)
    expectCode(
      () => backend.ecdsaRecover(new Uint8Array([...r, ...new Uint8Array(32)]), 0, hash),
      CryptoErrorCode.INVALID_SIGNATURE,
    )
    expectCode(
      () => backend.ecdsaRecover(new Uint8Array([...to32(N), ...s]), 0, hash),
      CryptoErrorCode.INVALID_SIGNATURE,
    )
    expectCode(() => backend.ecdsaRecover(new Uint8Array(64).fill(0xff), 0, hash), CryptoErrorCode.INVALID_SIGNATURE)
    expectCode(() => backend.ecdsaRecover(sig.subarray(0, 63), 0, hash), CryptoErrorCode.INVALID_SIGNATURE)
    // r = 5 has no point with that x on the curve (x^3 + 7 = 132 is not a square mod p): no key to recover.
    expectCode(
      () => backend.ecdsaRecover(new Uint8Array([...to32(5n), ...s]), 0, hash),
      CryptoErrorCode.INVALID_SIGNATURE,
    )
    expectCode(() => backend.ecdsaSign(hash, HARDHAT_KEY_0, new Uint8Array(16)), CryptoErrorCode.INVALID_ARGUMENT)
  })

  it('rejects malformed public keys', () => {
    const pub = backend.privateKeyToPublicKey(HARDHAT_KEY_0)
    expectCode(() => backend.publicKeyToAddress(pub.subarray(0, 60)), CryptoErrorCode.INVALID_PUBLIC_KEY)
    expectCode(
      () => backend.publicKeyToAddress(new Uint8Array([0x05, ...pub.subarray(1)])),
      CryptoErrorCode.INVALID_PUBLIC_KEY,
    )
    const notOnCurve = new Uint8Array(33)
    notOnCurve[0] = 0x02
    notOnCurve[32] = 5
    expectCode(() => backend.publicKeyToAddress(notOnCurve), CryptoErrorCode.INVALID_PUBLIC_KEY)
  })
})

describe.skipIf(nativeSecp256k1 === null)('native vs js (differential)', () => {
  const native = nativeSecp256k1 as Secp256k1Backend
  const same = (a: ReturnType<Secp256k1Backend['ecdsaSign']>, b: ReturnType<Secp256k1Backend['ecdsaSign']>) => {
    expect(bytesToHex(a.r)).toBe(bytesToHex(b.r))
    expect(bytesToHex(a.s)).toBe(bytesToHex(b.s))
    expect(a.recovery).toBe(b.recovery)
  }

  it('identical signatures, public keys, addresses and recovered keys for random keys and hashes', () => {
    fc.assert(
      fc.property(privateKeyArb, hashArb, fc.boolean(), (pk, hash, compressed) => {
        const a = native.ecdsaSign(hash, pk)
        const b = jsSecp256k1.ecdsaSign(hash, pk)
        same(a, b)
        expect(native.privateKeyToPublicKey(pk, compressed)).toEqual(jsSecp256k1.privateKeyToPublicKey(pk, compressed))
        expect(native.privateKeyToAddress(pk)).toEqual(jsSecp256k1.privateKeyToAddress(pk))
        const sig = new Uint8Array([...a.r, ...a.s])
        expect(native.ecdsaRecover(sig, a.recovery, hash, compressed)).toEqual(
          jsSecp256k1.ecdsaRecover(sig, a.recovery, hash, compressed),
        )
      }),
      { numRuns: 100 },
    )
  })

  it('identical recovery (or identical failure) for arbitrary signature bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 64, maxLength: 64 }), fc.constantFrom(0, 1), hashArb, (sig, rec, hash) => {
        const run = (b: Secp256k1Backend) => {
          try {
            return bytesToHex(b.ecdsaRecover(sig, rec, hash))
          } catch (err) {
            return (err as { code: string }).code
          }
        }
        expect(run(native)).toBe(run(jsSecp256k1))
      }),
      { numRuns: 100 },
    )
  })

  it('identical hedged signatures with the same 32-byte extra entropy', () => {
    fc.assert(
      fc.property(privateKeyArb, hashArb, hashArb, (pk, hash, entropy) => {
        same(native.ecdsaSign(hash, pk, entropy), jsSecp256k1.ecdsaSign(hash, pk, entropy))
      }),
      { numRuns: 30 },
    )
  })

  it('identical signatures for hashes >= n and edge keys (nonce uses h mod n on both)', () => {
    const hashes = [new Uint8Array(32).fill(0xff), to32(N), to32(N - 1n), new Uint8Array(32)]
    const keys = [to32(1n), to32(N - 1n), HARDHAT_KEY_0]
    for (const hash of hashes) {
      for (const pk of keys) {
        same(native.ecdsaSign(hash, pk), jsSecp256k1.ecdsaSign(hash, pk))
      }
    }
  })
})

describe('module-level functions use the default backend', () => {
  it('round-trips', () => {
    const hash = keccak256(new Uint8Array([42]))
    const { r, s, recovery } = ecdsaSign(hash, HARDHAT_KEY_0)
    const pub = ecdsaRecover(new Uint8Array([...r, ...s]), recovery, hash)
    expect(pub).toEqual(privateKeyToPublicKey(HARDHAT_KEY_0))
    expect(bytesToHex(publicKeyToAddress(pub))).toBe(HARDHAT_ADDR_0)
    expect(bytesToHex(privateKeyToAddress(HARDHAT_KEY_0))).toBe(HARDHAT_ADDR_0)
    expect(isValidPrivateKey(HARDHAT_KEY_0)).toBe(true)
  })
})

describe('the native addon self-check', () => {
  it("its known answer is @noble/curves' signature (so the addon is checked against it)", async () => {
    const { SELF_CHECK } = await import('../src/secp256k1.ts')
    const sig = jsSecp256k1.ecdsaSign(new Uint8Array(32).fill(0x22), new Uint8Array(32).fill(0x11))
    expect({ r: bytesToHex(sig.r).slice(2), s: bytesToHex(sig.s).slice(2), recovery: sig.recovery }).toEqual(SELF_CHECK)
  })
})
