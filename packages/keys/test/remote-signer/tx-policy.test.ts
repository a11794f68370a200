/**
 * The remote signer's transaction policy: what it signs (the keccak-256 of exactly the bytes it
 * checked) and each refusal — another chain, no chain id, EIP-7702, already signed, not canonical,
 * a creation or a recipient the policy does not allow, a value over the cap, bytes that are no
 * transaction.
 */
import { bytesToHex } from '@cairn/utils'
import { type Hex, keccak256, serializeTransaction, type TransactionSerializable } from 'viem'
import { describe, expect, it } from 'vitest'
import { checkTransaction, OPEN_TX_POLICY, type TxPolicy } from '../../src/remote-signer/tx-policy.ts'

const CHAIN = 1337n
const TO = `0x${'ab'.repeat(20)}` as Hex
const base: TransactionSerializable = {
  type: 'eip1559',
  chainId: 1337,
  to: TO,
  value: 10n,
  nonce: 3,
  gas: 50_000n,
  maxFeePerGas: 2n * 10n ** 9n,
  maxPriorityFeePerGas: 10n ** 9n,
  data: '0x1234',
}
const ser = (tx: TransactionSerializable) => serializeTransaction(tx) as Hex
const reason = (tx: Hex, policy: TxPolicy = OPEN_TX_POLICY) => {
  const r = checkTransaction(tx, CHAIN, policy)
  return r.ok ? 'signed' : r.reason
}

describe('checkTransaction', () => {
  it('signs the keccak-256 of exactly the bytes it checked, for each allowed type', () => {
    for (const tx of [
      base,
      { ...base, type: 'eip2930', gasPrice: 10n ** 9n, maxFeePerGas: undefined, maxPriorityFeePerGas: undefined },
      { type: 'legacy', chainId: 1337, to: TO, value: 1n, nonce: 0, gas: 21_000n, gasPrice: 10n ** 9n },
    ] as TransactionSerializable[]) {
      const bytes = ser(tx)
      const r = checkTransaction(bytes, CHAIN, OPEN_TX_POLICY)
      expect(r.ok, `${tx.type}: ${r.ok ? '' : r.reason}`).toBe(true)
      if (r.ok) {
        expect(bytesToHex(r.hash)).toBe(keccak256(bytes))
        expect(r.to).toBe(TO)
      }
    }
  })

  it('refuses another chain, no chain id, EIP-7702 and a signed transaction', () => {
    expect(reason(ser({ ...base, chainId: 1 }))).toMatch(/for chain 1; this signer signs for chain 1337 only/)
    expect(
      reason(
        ser({ type: 'legacy', to: TO, value: 1n, nonce: 0, gas: 21_000n, gasPrice: 1n } as TransactionSerializable),
      ),
    ).toMatch(/no chain id/)
    const auth = {
      address: TO,
      chainId: 1337,
      nonce: 0,
      r: `0x${'11'.repeat(32)}` as Hex,
      s: `0x${'22'.repeat(32)}` as Hex,
      yParity: 0,
    }
    expect(reason(ser({ ...base, type: 'eip7702', authorizationList: [auth] } as TransactionSerializable))).toMatch(
      /EIP-7702/,
    )
    const signed = serializeTransaction(base, { r: `0x${'11'.repeat(32)}`, s: `0x${'22'.repeat(32)}`, yParity: 1 })
    expect(reason(signed as Hex)).toMatch(/already signed/)
  })

  it('refuses bytes that are no transaction, or not in their canonical encoding', () => {
    expect(reason('0x02c0')).toMatch(/do not decode/)
    expect(reason('0xdeadbeef')).toMatch(/do not decode/)
    // a byte after the transaction: what is signed must be exactly what was checked
    const canonical = ser({ type: 'legacy', chainId: 1337, to: TO, value: 1n, nonce: 0, gas: 21_000n, gasPrice: 1n })
    expect(reason(canonical)).toBe('signed')
    expect(reason(`${canonical}00` as Hex)).not.toBe('signed')
    expect(reason(`${ser(base)}00` as Hex)).not.toBe('signed')
  })

  it('applies the policy: recipients, creations, the value cap', () => {
    const policy: TxPolicy = { allowTo: [{ to: TO, selectors: null }], allowCreate: false, maxValue: 100n }
    expect(reason(ser(base), policy)).toBe('signed')
    expect(reason(ser({ ...base, to: `0x${'cd'.repeat(20)}` }), policy)).toMatch(/recipient 0xcdcd.* is not allowed/)
    expect(reason(ser({ ...base, to: undefined }), policy)).toMatch(/contract creations are not allowed/)
    expect(reason(ser({ ...base, to: undefined }), { ...policy, allowCreate: true })).toBe('signed')
    expect(reason(ser({ ...base, value: 100n }), policy)).toBe('signed')
    expect(reason(ser({ ...base, value: 101n }), policy)).toMatch(/value 101 wei is over the cap of 100/)
    // by default: any recipient, no creation, no cap
    expect(reason(ser({ ...base, to: `0x${'cd'.repeat(20)}`, value: 10n ** 24n }))).toBe('signed')
    expect(reason(ser({ ...base, to: undefined }))).toMatch(/contract creations/)
  })

  it('with selectors, only those functions of the recipient: no other call, no bare payment', () => {
    const policy: TxPolicy = { allowTo: [{ to: TO, selectors: ['0x12345678'] }], allowCreate: false, maxValue: null }
    expect(reason(ser({ ...base, data: '0x12345678' }), policy)).toBe('signed')
    expect(reason(ser({ ...base, data: '0x12345678abcdef' }), policy)).toBe('signed')
    expect(reason(ser({ ...base, data: '0x87654321' }), policy)).toMatch(
      /function 0x87654321 of 0xabab.* is not allowed/,
    )
    expect(reason(ser({ ...base, data: '0x1234' }), policy)).toMatch(/a call without a function selector/)
    expect(reason(ser({ ...base, data: undefined }), policy)).toMatch(/a call without a function selector/)
  })
})
