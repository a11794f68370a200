import { hexToBytes } from '@cairn/utils'
import { getAddress } from 'ethers'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { CryptoErrorCode, isValidChecksumAddress, toChecksumAddress } from '../src/index.ts'

// From EIP-55.
const EIP55 = [
  '0x52908400098527886E0F7030069857D2E4169EE7',
  '0x8617E340B3D01FA5F11F306F4090FD50E238070D',
  '0xde709f2102306220921060314715629080e2fb77',
  '0x27b1fdb04752bbc536007a920d24acb045561c26',
  '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed',
  '0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359',
  '0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB',
  '0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb',
]

describe('EIP-55 checksum addresses', () => {
  it('reproduces the EIP-55 examples from any input case and from bytes', () => {
    for (const addr of EIP55) {
      expect(toChecksumAddress(addr.toLowerCase())).toBe(addr)
      expect(toChecksumAddress(addr.toUpperCase().replace('0X', '0x'))).toBe(addr)
      expect(toChecksumAddress(addr.slice(2))).toBe(addr)
      expect(toChecksumAddress(hexToBytes(addr))).toBe(addr)
      expect(isValidChecksumAddress(addr)).toBe(true)
    }
  })

  it('agrees with ethers getAddress on random addresses', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 20, maxLength: 20 }), (bytes) => {
        const ours = toChecksumAddress(bytes)
        expect(ours).toBe(getAddress(ours.toLowerCase()))
      }),
      { numRuns: 200 },
    )
  })

  it('rejects wrong checksums and malformed input', () => {
    expect(isValidChecksumAddress('0x5aaeb6053F3E94C9b9A09f33669435E7Ef1BeAed')).toBe(false)
    expect(isValidChecksumAddress('5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed')).toBe(false)
    expect(isValidChecksumAddress('0x1234')).toBe(false)
    for (const bad of ['0x1234', `0x${'g'.repeat(40)}`, '', new Uint8Array(19)]) {
      expect(() => toChecksumAddress(bad)).toThrowError(
        expect.objectContaining({ code: CryptoErrorCode.INVALID_ADDRESS }),
      )
    }
  })
})
