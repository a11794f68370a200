import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { z } from 'zod'
import { quickAccountParams, quickCallParams } from '../src/fast/quick-params.ts'
import { ethCall, ethStateMethods } from '../src/methods/eth-state.ts'

const balance = ethStateMethods.find((m) => m.name === 'eth_getBalance')
if (!balance) throw new Error('no eth_getBalance')

/** JSON with bigints as text: equal strings mean equal values with keys in the same order. */
const text = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `${x}n` : x))

/** The quick check agrees with the schema: the same output (and key order) whenever it answers. */
function agrees(quick: (p: unknown[]) => unknown, schema: z.ZodType, params: unknown[]): boolean {
  const got = quick(params)
  if (got === undefined) return false
  const parsed = schema.safeParse(params)
  expect(parsed.success).toBe(true)
  expect(got).toStrictEqual(parsed.data)
  expect(text(got)).toBe(text(parsed.data))
  return true
}

const hexChars = (min: number, max: number) =>
  fc
    .array(fc.constantFrom(...'0123456789abcdefABCDEFg'.split('')), { minLength: min, maxLength: max })
    .map((a) => a.join(''))
const hexString = fc.oneof(
  hexChars(0, 70).map((h) => `0x${h}`),
  hexChars(40, 40).map((h) => `0x${h}`),
  hexChars(64, 64).map((h) => `0x${h}`),
  fc.constantFrom('0x', '0x0', '0x00', '0x1', '0x01', `0x${'f'.repeat(16)}`, `0x1${'0'.repeat(16)}`),
  fc.string({ maxLength: 8 }),
)
const address = hexChars(40, 40).map((h) => `0x${h}`)
const value = fc.oneof(hexString, fc.integer(), fc.constant(null), fc.boolean(), fc.constant(undefined))
const ref = fc.oneof(
  fc.constantFrom('latest', 'earliest', 'pending', 'safe', 'finalized', 'Latest', ''),
  hexString,
  fc.record({ blockNumber: hexString }),
  fc.integer(),
)
const callObject = fc.dictionary(
  fc.constantFrom('from', 'to', 'data', 'input', 'gas', 'value', 'gasPrice', 'nonce', 'toString', '__proto__'),
  value,
  { maxKeys: 5 },
)

describe('quick params', () => {
  it('answer eth_call params exactly as its schema does, or leave them to it', () => {
    let answered = 0
    fc.assert(
      fc.property(
        fc.oneof(fc.tuple(callObject), fc.tuple(callObject, ref), fc.tuple(callObject, ref, fc.constant({}))),
        (params) => {
          if (agrees(quickCallParams, ethCall.params, params)) answered++
        },
      ),
      { numRuns: 3000 },
    )
    // The common shapes are answered here (a quick check that never answered would pass the above).
    expect(answered).toBeGreaterThan(50)
  })

  it('answer eth_getBalance params exactly as its schema does, or leave them to it', () => {
    let answered = 0
    fc.assert(
      fc.property(fc.oneof(fc.tuple(hexString), fc.tuple(address, ref), fc.tuple(value, ref)), (params) => {
        if (agrees(quickAccountParams, balance.params, params)) answered++
      }),
      { numRuns: 3000 },
    )
    expect(answered).toBeGreaterThan(50)
  })

  it('answer the shapes reads send', () => {
    const to = `0x${'Ab'.repeat(20)}`
    for (const params of [
      [{ to, data: '0x70A08231' }, 'latest'],
      [{ from: to, to, input: '0x', gas: '0x0001' }],
      [{ to }, '0x1a'],
    ]) {
      expect(agrees(quickCallParams, ethCall.params, params)).toBe(true)
    }
    expect(agrees(quickAccountParams, balance.params, [to, 'latest'])).toBe(true)
    expect(agrees(quickAccountParams, balance.params, [to, '0x0'])).toBe(true)
    // A block hash, an override, a number past 64 bits: the schema's.
    expect(quickAccountParams([to, `0x${'1'.repeat(64)}`])).toBeUndefined()
    expect(quickCallParams([{ to }, 'latest', {}])).toBeUndefined()
    expect(quickCallParams([{ to, gas: `0x1${'0'.repeat(16)}` }])).toBeUndefined()
  })
})
