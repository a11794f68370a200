import { bytesToHex } from '@cairn/utils'
import fc from 'fast-check'
import { describe, expect, it, vi } from 'vitest'
import {
  CryptoErrorCode,
  cryptoBackends,
  initCrypto,
  jsKeccak256,
  keccak256,
  keccakBackend,
  sha256,
  wasmKeccak256,
} from '../src/index.ts'

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s)

const KECCAK_VECTORS: [string, string][] = [
  ['', '0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470'],
  ['abc', '0x4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45'],
  ['The quick brown fox jumps over the lazy dog', '0x4d741b6f1eb29cb2a9b9911c82f56fa8d73b04959d3d9d222895df6c0b28aa15'],
]

describe('keccak256', () => {
  // Order matters in this describe: the module starts on JS and switches to WASM after initCrypto().
  // Unit files share their worker's modules (vitest.config.ts: isolate false), and another file may
  // have run initCrypto() already: the start is checked on a fresh instance of the module.
  it('starts on the JS backend, and wasmKeccak256 refuses to run before init', async () => {
    vi.resetModules()
    const fresh = await import('../src/index.ts')
    expect(fresh.keccakBackend()).toBe('js')
    expect(() => fresh.wasmKeccak256(new Uint8Array())).toThrowError(
      expect.objectContaining({ code: CryptoErrorCode.BACKEND_UNAVAILABLE, fault: 'internal' }),
    )
    for (const [input, expected] of KECCAK_VECTORS) expect(bytesToHex(fresh.keccak256(utf8(input)))).toBe(expected)
  })

  it('switches to WASM after initCrypto() (idempotent, concurrent-safe)', async () => {
    const [a, b] = await Promise.all([initCrypto(), initCrypto()])
    expect(a).toEqual(b)
    expect(a.keccak).toBe('wasm')
    expect(keccakBackend()).toBe('wasm')
    expect(cryptoBackends().keccak).toBe('wasm')
    expect(a.keccakFallbackReason).toBeUndefined()
    for (const [input, expected] of KECCAK_VECTORS) {
      expect(bytesToHex(keccak256(utf8(input)))).toBe(expected)
      expect(bytesToHex(wasmKeccak256(utf8(input)))).toBe(expected)
    }
  })

  it('WASM and JS agree on random inputs of any size (block boundaries included)', async () => {
    await initCrypto()
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 600 }), (data) => {
        const w = wasmKeccak256(data)
        expect(w).toEqual(jsKeccak256(data))
        expect(w).toEqual(keccak256(data))
      }),
      { numRuns: 500 },
    )
    for (const len of [135, 136, 137, 271, 272, 273, 100_000]) {
      const data = new Uint8Array(len).map((_, i) => (i * 31) & 0xff)
      expect(wasmKeccak256(data)).toEqual(jsKeccak256(data))
    }
  })

  it('returns a fresh array each call (callers may keep or mutate it)', async () => {
    await initCrypto()
    const a = keccak256(utf8('a'))
    const b = keccak256(utf8('b'))
    expect(a).not.toEqual(b)
    expect(a.buffer).not.toBe(b.buffer)
    expect(a).toBeInstanceOf(Uint8Array)
  })
})

describe('sha256', () => {
  it('matches the FIPS 180 vectors and returns a plain Uint8Array', () => {
    expect(bytesToHex(sha256(utf8('')))).toBe('0xe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855')
    expect(bytesToHex(sha256(utf8('abc')))).toBe('0xba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
    const out = sha256(utf8('abc'))
    expect(Object.getPrototypeOf(out)).toBe(Uint8Array.prototype)
  })
})
