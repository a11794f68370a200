// Argon2id, the proof-of-work seal's memory-hard function: the pure-JS implementation against RFC
// 9106's Argon2id test vector (§5.3: it takes a secret and associated data, which hash-wasm's API
// has no place for), then hash-wasm's WebAssembly one against it on random inputs and parameters.
import { isCairnError } from '@cairn/utils'
import { argon2id as nobleArgon2id } from '@noble/hashes/argon2'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { argon2id, CryptoErrorCode, jsArgon2id } from '../src/index.ts'

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

describe('argon2id', () => {
  it('@noble/hashes gives RFC 9106’s Argon2id test vector', () => {
    const tag = nobleArgon2id(new Uint8Array(32).fill(1), new Uint8Array(16).fill(2), {
      t: 3,
      m: 32,
      p: 4,
      dkLen: 32,
      key: new Uint8Array(8).fill(3),
      personalization: new Uint8Array(12).fill(4),
    })
    expect(hex(tag)).toBe('0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659')
  })

  it('hash-wasm and @noble/hashes agree on random inputs and parameters (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 1, maxLength: 80 }),
        fc.uint8Array({ minLength: 8, maxLength: 32 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 8, max: 128 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 4, max: 64 }),
        async (password, salt, parallelism, memory, iterations, hashLength) => {
          const params = { memoryKiB: Math.max(memory, 8 * parallelism), iterations, parallelism, hashLength }
          expect(hex(await argon2id(password, salt, params))).toBe(hex(jsArgon2id(password, salt, params)))
        },
      ),
      { numRuns: 20, seed: 68 },
    )
  })

  it('refuses parameters outside RFC 9106 with CRYPTO_INVALID_ARGUMENT', async () => {
    const pw = new Uint8Array(4)
    const salt = new Uint8Array(8)
    const empty = await argon2id(new Uint8Array(0), salt, { memoryKiB: 64, iterations: 1 }).catch((e: unknown) => e)
    expect(isCairnError(empty, CryptoErrorCode.INVALID_ARGUMENT)).toBe(true)
    for (const [s, params] of [
      [new Uint8Array(7), { memoryKiB: 64, iterations: 1 }],
      [salt, { memoryKiB: 7, iterations: 1 }],
      [salt, { memoryKiB: 64, iterations: 0 }],
      [salt, { memoryKiB: 64, iterations: 1.5 }],
      [salt, { memoryKiB: 16, iterations: 1, parallelism: 4 }],
      [salt, { memoryKiB: 64, iterations: 1, hashLength: 3 }],
    ] as const) {
      const err = await argon2id(pw, s, params).catch((e: unknown) => e)
      expect(isCairnError(err, CryptoErrorCode.INVALID_ARGUMENT), String(err)).toBe(true)
    }
  })
})
