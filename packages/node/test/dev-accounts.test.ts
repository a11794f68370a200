import { deriveAccounts } from '@cairn/crypto'
import { describe, expect, it } from 'vitest'
import { DEFAULT_DEV_KEYS, DEFAULT_DEV_MNEMONIC, devAccounts } from '../src/dev-accounts.ts'

describe('devAccounts', () => {
  it("the default mnemonic's precomputed keys are what BIP-32 derives", () => {
    const derived = deriveAccounts(DEFAULT_DEV_MNEMONIC, DEFAULT_DEV_KEYS.length)
    const table = devAccounts(DEFAULT_DEV_MNEMONIC, DEFAULT_DEV_KEYS.length)
    expect(table.map((a) => [a.address, Buffer.from(a.privateKey).toString('hex'), a.path])).toEqual(
      derived.map((a) => [a.address, Buffer.from(a.privateKey).toString('hex'), a.path]),
    )
  })

  it('derives beyond the table, and for other mnemonics', () => {
    const more = devAccounts(DEFAULT_DEV_MNEMONIC, DEFAULT_DEV_KEYS.length + 1)
    expect(more.at(-1)?.path).toBe(`m/44'/60'/0'/0/${DEFAULT_DEV_KEYS.length}`)
    const other = 'legal winner thank year wave sausage worth useful legal winner thank yellow'
    expect(devAccounts(other, 1)[0]?.address).toBe(deriveAccounts(other, 1)[0]?.address)
  })
})
