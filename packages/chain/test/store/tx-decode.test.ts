// decodeTransaction builds the common EIP-1559 transaction itself instead of through @ethereumjs's
// decoder. Differential: over random field values (in and out of range, non-minimal integers,
// wrong chain ids, access lists, contract creations) and random mutations of their encodings,
// whenever the direct path builds a transaction @ethereumjs builds the same one (class, own
// properties in order, values, frozen, methods' answers), and whenever @ethereumjs refuses, so does
// decodeTransaction, with @ethereumjs's own message.
import { initCrypto } from '@cairn/crypto'
import { RLP } from '@ethereumjs/rlp'
import { createTxFromRLP, type TypedTransaction } from '@ethereumjs/tx'
import { bytesToHex, concatBytes, SECP256K1_ORDER_DIV_2 } from '@ethereumjs/util'
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { createChainCommon, seedEncodedTx } from '../../src/index.ts'
import { ownCopy } from '../../src/rules/common.ts'
import { feeMarketTx } from '../../src/store/fee-market-tx.ts'
import { decodeTransaction } from '../../src/store/tx-decode.ts'
import { KEYS, typedTx } from '../helpers.ts'

const osaka = createChainCommon({ chainId: 1337n, hardfork: 'osaka' })
const cancun = createChainCommon({ chainId: 1337n, hardfork: 'cancun' })

beforeAll(() => initCrypto())

/** Minimal big-endian bytes of n (empty for 0). */
function minimal(n: bigint): Uint8Array {
  if (n === 0n) return new Uint8Array(0)
  let hex = n.toString(16)
  if (hex.length % 2) hex = `0${hex}`
  return Uint8Array.from(hex.match(/../g) as string[], (h) => Number.parseInt(h, 16))
}

/** An integer field: mostly minimal, sometimes with a leading zero, sometimes oversized. */
const intField = (maxBits: bigint) =>
  fc.oneof(
    { weight: 24, arbitrary: fc.bigInt({ min: 0n, max: 2n ** maxBits - 1n }).map(minimal) },
    {
      weight: 1,
      arbitrary: fc.bigInt({ min: 0n, max: 2n ** 64n }).map((n) => concatBytes(new Uint8Array([0]), minimal(n))),
    },
    { weight: 1, arbitrary: fc.uint8Array({ minLength: 0, maxLength: 34 }) },
  )

const field = fc.record({
  chainId: fc.oneof(
    { weight: 24, arbitrary: fc.constant(minimal(1337n)) },
    { weight: 1, arbitrary: fc.constant(new Uint8Array([0, 5, 57])) }, // 1337 with a leading zero
    { weight: 1, arbitrary: intField(64n) },
  ),
  nonce: fc.oneof(
    { weight: 6, arbitrary: intField(64n) },
    { weight: 1, arbitrary: fc.constantFrom(minimal(2n ** 64n - 1n), minimal(2n ** 64n - 2n)) },
  ),
  // Mostly a priority fee within the fee cap; sometimes above it.
  fees: fc.oneof(
    {
      weight: 6,
      arbitrary: fc
        .tuple(fc.bigInt({ min: 0n, max: 2n ** 80n }), fc.bigInt({ min: 0n, max: 2n ** 80n }))
        .map(([a, b]) => (a < b ? [a, b] : [b, a]).map(minimal)),
    },
    { weight: 1, arbitrary: fc.tuple(intField(80n), intField(80n)) },
  ),
  // Mostly within Osaka's 2^24 cap (EIP-7825).
  gasLimit: fc.oneof(
    { weight: 6, arbitrary: fc.bigInt({ min: 0n, max: 2n ** 24n }).map(minimal) },
    { weight: 1, arbitrary: fc.bigInt({ min: 0n, max: 2n ** 25n }).map(minimal) },
    { weight: 1, arbitrary: intField(64n) },
  ),
  to: fc.oneof(
    { weight: 24, arbitrary: fc.uint8Array({ minLength: 20, maxLength: 20 }) },
    { weight: 1, arbitrary: fc.constant(new Uint8Array(0)) },
    { weight: 1, arbitrary: fc.uint8Array({ minLength: 19, maxLength: 21 }) },
  ),
  value: intField(256n),
  data: fc.uint8Array({ maxLength: 120 }),
  accessList: fc.oneof(
    { weight: 24, arbitrary: fc.constant([] as unknown[]) },
    {
      weight: 1,
      arbitrary: fc.constant([[new Uint8Array(20).fill(7), [new Uint8Array(32).fill(9)]]] as unknown[]),
    },
  ),
  v: fc.oneof(
    { weight: 24, arbitrary: fc.constantFrom(new Uint8Array(0), new Uint8Array([1])) },
    { weight: 1, arbitrary: fc.constantFrom(new Uint8Array([0]), new Uint8Array([2]), new Uint8Array([27])) },
  ),
  r: fc.oneof(
    { weight: 24, arbitrary: fc.bigInt({ min: 1n, max: 2n ** 256n - 1n }).map(minimal) },
    { weight: 1, arbitrary: intField(256n) },
  ),
  s: fc.oneof(
    { weight: 24, arbitrary: fc.bigInt({ min: 1n, max: SECP256K1_ORDER_DIV_2 }).map(minimal) },
    { weight: 1, arbitrary: fc.bigInt({ min: SECP256K1_ORDER_DIV_2, max: 2n ** 256n - 1n }).map(minimal) },
    { weight: 1, arbitrary: intField(256n) },
  ),
})
type Fields = typeof field extends fc.Arbitrary<infer T> ? T : never

function encode(f: Fields, type = 2): Uint8Array {
  const list = [
    f.chainId,
    f.nonce,
    f.fees[0],
    f.fees[1],
    f.gasLimit,
    f.to,
    f.value,
    f.data,
    f.accessList,
    f.v,
    f.r,
    f.s,
  ]
  return concatBytes(new Uint8Array([type]), RLP.encode(list as Uint8Array[]))
}

/** A random edit of an encoding: a byte changed, cut short, a byte appended, or the type byte changed. */
const mutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), to: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('append' as const), to: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('type' as const), to: fc.constantFrom(0, 1, 3, 4, 0xc0) }),
)
function mutate(bytes: Uint8Array, m: { kind: string; at?: number; to?: number }) {
  const out = Uint8Array.from(bytes)
  switch (m.kind) {
    case 'flip':
      out[(m.at as number) % out.length] = m.to as number
      return out
    case 'cut':
      return out.subarray(0, (m.at as number) % out.length)
    case 'append':
      return concatBytes(out, new Uint8Array([m.to as number]))
    default:
      out[0] = m.to as number
      return out
  }
}

function attempt<T>(f: () => T): { value: T } | { error: Error } {
  try {
    return { value: f() }
  } catch (error) {
    return { error: error as Error }
  }
}

function outcome(f: () => unknown): unknown {
  const r = attempt(f)
  return 'error' in r ? { error: r.error.message } : r
}

/** The two objects are the same transaction: class, own properties in order, values, methods' answers. */
function expectSameTx(got: TypedTransaction, ref: TypedTransaction) {
  expect(Object.getPrototypeOf(got)).toBe(Object.getPrototypeOf(ref))
  expect(Object.isFrozen(got)).toBe(Object.isFrozen(ref))
  expect(Object.keys(got)).toEqual(Object.keys(ref))
  for (const key of Object.keys(ref) as (keyof TypedTransaction)[]) {
    if (key === 'common') expect(got.common).toBe(ref.common)
    else if (key === 'txOptions') expect(got.txOptions).toEqual(ref.txOptions)
    else expect(got[key], key).toEqual(ref[key])
  }
  // Each method answers the same, or throws the same (hash() of an unsigned transaction).
  const methods: ((tx: TypedTransaction) => unknown)[] = [
    (tx) => bytesToHex(tx.serialize()),
    (tx) => bytesToHex(tx.hash()),
    (tx) => RLP.encode(tx.getMessageToSign()),
    (tx) => tx.toJSON(),
    (tx) => tx.getUpfrontCost(7n),
    (tx) => tx.getIntrinsicGas(),
    (tx) => tx.isSigned(),
    (tx) => tx.supports(1559),
  ]
  for (const m of methods) expect(outcome(() => m(got))).toEqual(outcome(() => m(ref)))
}

/** decodeTransaction against @ethereumjs on `bytes`; whether the direct path built it. */
function compare(bytes: Uint8Array, common = osaka): boolean {
  const reference = () => {
    const tx = createTxFromRLP(bytes, { common })
    seedEncodedTx(tx, bytes)
    return tx
  }
  const ref = attempt(reference)
  const direct = feeMarketTx(bytes, common)
  const got = attempt(() => decodeTransaction(bytes, common))
  if ('error' in ref) {
    expect(direct, `built what @ethereumjs refuses (${ref.error.message})`).toBeUndefined()
    expect('error' in got && got.error.message).toBe(ref.error.message)
    return false
  }
  if (!('value' in got)) throw got.error
  expectSameTx(got.value, ref.value)
  if (direct !== undefined) {
    seedEncodedTx(direct, bytes)
    expectSameTx(direct, reference())
  }
  return direct !== undefined
}

describe('decodeTransaction', () => {
  it('builds the transaction @ethereumjs builds, and refuses what it refuses, over random fields', () => {
    let built = 0
    let runs = 0
    fc.assert(
      fc.property(field, (f) => {
        runs++
        if (compare(encode(f))) built++
      }),
      { numRuns: 2000 },
    )
    // The common form is most of the draws: the direct path is exercised, not only the fallback.
    expect(built).toBeGreaterThan(runs / 5)
    // CPU work (2,000 decodes both ways): 19–35 s on a 2-core machine at load 16–24
  }, 120_000)

  it('over random edits of valid encodings (a byte changed, cut short, extended, another type)', () => {
    fc.assert(
      fc.property(field, mutation, (f, m) => {
        compare(mutate(encode(f), m))
      }),
      { numRuns: 2000 },
    )
  })

  it('builds signed transfers and calls of any size directly (long-form lengths included)', () => {
    const key = KEYS[0] as Uint8Array
    for (const size of [0, 1, 55, 56, 300, 70_000]) {
      const tx = typedTx(osaka, key, 2, {
        nonce: 3n,
        value: 10n ** 18n,
        gasLimit: 5_000_000n,
        data: new Uint8Array(size).fill(1),
      })
      const bytes = tx.serialize()
      expect(feeMarketTx(bytes, osaka), `data of ${size} bytes`).toBeDefined()
      compare(bytes)
      expect(bytesToHex(decodeTransaction(bytes, osaka).getSenderAddress().bytes)).toBe(
        bytesToHex(tx.getSenderAddress().bytes),
      )
    }
  })

  it('refuses non-minimal RLP as @ethereumjs does: a short item in long form, a single byte prefixed, a short list in long form', () => {
    const key = KEYS[0] as Uint8Array
    const tx = typedTx(osaka, key, 2, { nonce: 1n, value: 0n, gasLimit: 21_000n, data: new Uint8Array(0) })
    const items = (RLP.decode(tx.serialize().subarray(1)) as Uint8Array[]).map((item) => RLP.encode(item))
    const withData = (data: Uint8Array) => {
      const parts = [...items]
      parts[7] = data
      const payload = concatBytes(...parts)
      return concatBytes(new Uint8Array([2, 0xf8, payload.length]), payload)
    }
    const canonical = withData(RLP.encode(new Uint8Array(10).fill(0xaa)))
    expect(feeMarketTx(canonical, osaka)).toBeDefined()
    compare(canonical)
    for (const bad of [
      withData(concatBytes(new Uint8Array([0xb8, 10]), new Uint8Array(10).fill(0xaa))), // 10 bytes in long form
      withData(new Uint8Array([0x81, 0x05])), // one byte below 0x80, prefixed
    ]) {
      expect(feeMarketTx(bad, osaka)).toBeUndefined()
      expect(() => createTxFromRLP(bad, { common: osaka })).toThrow()
      compare(bad)
    }
    // The list itself in long form with a payload under 56 bytes (a legacy-length transfer cannot be
    // that short, so a made-up short list: refused either way, never built here).
    const short = concatBytes(
      new Uint8Array([2, 0xf8, 3]),
      RLP.encode(new Uint8Array([1])),
      new Uint8Array([0x80, 0x80]),
    )
    expect(feeMarketTx(short, osaka)).toBeUndefined()
    compare(short)
  })

  it("leaves to @ethereumjs what it does not build: other types, another chain's Common rules, a Common of its own", () => {
    const key = KEYS[0] as Uint8Array
    for (const type of [0, 1]) {
      const bytes = typedTx(osaka, key, type, {
        nonce: 1n,
        value: 0n,
        gasLimit: 21_000n,
        data: new Uint8Array(0),
      }).serialize()
      expect(feeMarketTx(bytes, osaka)).toBeUndefined()
      compare(bytes)
    }
    const transfer = typedTx(osaka, key, 2, {
      nonce: 1n,
      value: 0n,
      gasLimit: 21_000n,
      data: new Uint8Array(0),
    }).serialize()
    // Cancun has no EIP-7825 cap: a gas limit above Osaka's 2^24 is built there, refused on Osaka.
    const big = typedTx(cancun, key, 2, {
      nonce: 1n,
      value: 0n,
      gasLimit: 2n ** 25n,
      data: new Uint8Array(0),
    }).serialize()
    expect(feeMarketTx(big, cancun)).toBeDefined()
    compare(big, cancun)
    expect(feeMarketTx(big, osaka)).toBeUndefined()
    expect(() => decodeTransaction(big, osaka)).toThrow(/EIP-7825/)
    // A Common that is not one of the chain's shared ones: @ethereumjs copies it into the transaction.
    const own = ownCopy(osaka)
    expect(feeMarketTx(transfer, own)).toBeUndefined()
    compare(transfer, own)
  })
})
