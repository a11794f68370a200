import { bytesToHex } from '@cairn/utils'
import { HDNodeWallet, Mnemonic } from 'ethers'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  CryptoErrorCode,
  DEFAULT_HD_PATH,
  deriveAccounts,
  generateMnemonic,
  mnemonicToPrivateKey,
  mnemonicToSeed,
  validateMnemonic,
} from '../src/index.ts'

const TEST_MNEMONIC = 'test test test test test test test test test test test junk'

function expectCode(fn: () => unknown, code: string): void {
  expect(fn).toThrowError(expect.objectContaining({ name: 'CairnError', code, fault: 'caller' }))
}

describe('BIP-44 accounts of the standard test mnemonic (hardhat/anvil)', () => {
  it('account 0 and 1', () => {
    const [a0, a1] = deriveAccounts(TEST_MNEMONIC, 2)
    expect(a0).toMatchObject({
      index: 0,
      path: "m/44'/60'/0'/0/0",
      address: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266',
    })
    expect(bytesToHex(a0?.privateKey ?? new Uint8Array())).toBe(
      '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80',
    )
    expect(a1).toMatchObject({
      index: 1,
      path: "m/44'/60'/0'/0/1",
      address: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
    })
    expect(bytesToHex(a1?.privateKey ?? new Uint8Array())).toBe(
      '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d',
    )
  })

  it('mnemonicToPrivateKey defaults to the first account and agrees with deriveAccounts', () => {
    expect(DEFAULT_HD_PATH).toBe("m/44'/60'/0'/0/0")
    const accounts = deriveAccounts(TEST_MNEMONIC, 5)
    expect(mnemonicToPrivateKey(TEST_MNEMONIC)).toEqual(accounts[0]?.privateKey)
    expect(mnemonicToPrivateKey(TEST_MNEMONIC, "m/44'/60'/0'/0/4")).toEqual(accounts[4]?.privateKey)
    expect(deriveAccounts(TEST_MNEMONIC, 0)).toEqual([])
  })

  it('normalises whitespace and case', () => {
    const messy = `  ${TEST_MNEMONIC.toUpperCase().replaceAll(' ', ' \t\n ')}  `
    expect(validateMnemonic(messy)).toBe(true)
    expect(mnemonicToPrivateKey(messy)).toEqual(mnemonicToPrivateKey(TEST_MNEMONIC))
  })

  it('a passphrase gives a different wallet; a custom base path is honoured', () => {
    const withPass = mnemonicToPrivateKey(TEST_MNEMONIC, DEFAULT_HD_PATH, 'secret')
    expect(withPass).not.toEqual(mnemonicToPrivateKey(TEST_MNEMONIC))
    const ref = HDNodeWallet.fromPhrase(TEST_MNEMONIC, 'secret', DEFAULT_HD_PATH)
    expect(bytesToHex(withPass)).toBe(ref.privateKey)
    const ledgerLive = deriveAccounts(TEST_MNEMONIC, 1, "m/44'/60'/1'/0")[0]
    expect(ledgerLive?.path).toBe("m/44'/60'/1'/0/0")
    expect(ledgerLive?.address).toBe(HDNodeWallet.fromPhrase(TEST_MNEMONIC, '', "m/44'/60'/1'/0/0").address)
  })
})

describe('BIP-39', () => {
  it('seed matches the Trezor reference vector (passphrase TREZOR)', () => {
    const m = 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about'
    expect(bytesToHex(mnemonicToSeed(m, 'TREZOR'))).toBe(
      '0xc55257c360c07c72029aebc1b53c05ed0362ada38ead3e3e9efa3708e53495531f09a6987599d18264c1e1c92f2cf141630c7a3c4ab7c81b2f001698e7463b04',
    )
  })

  it('generates valid mnemonics of every strength', () => {
    for (const [strength, words] of [
      [128, 12],
      [160, 15],
      [192, 18],
      [224, 21],
      [256, 24],
    ] as const) {
      const m = generateMnemonic(strength)
      expect(m.split(' ')).toHaveLength(words)
      expect(validateMnemonic(m)).toBe(true)
    }
    expect(generateMnemonic().split(' ')).toHaveLength(12)
    expect(generateMnemonic()).not.toBe(generateMnemonic())
    expectCode(() => generateMnemonic(100), CryptoErrorCode.INVALID_ARGUMENT)
  })

  it('random mnemonics derive the same accounts as ethers (independent implementation)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.nat({ max: 20 }), (entropy, index) => {
        const phrase = Mnemonic.fromEntropy(entropy).phrase
        const ref = HDNodeWallet.fromPhrase(phrase, '', `m/44'/60'/0'/0/${index}`)
        expect(bytesToHex(mnemonicToPrivateKey(phrase, `m/44'/60'/0'/0/${index}`))).toBe(ref.privateKey)
      }),
      { numRuns: 15 },
    )
  })

  it('rejects invalid mnemonics with CRYPTO_INVALID_MNEMONIC and says why', () => {
    const badChecksum = 'test test test test test test test test test test test test'
    const unknownWord = 'test test test test test test test test test test test junkk'
    const tooShort = 'test test test'
    expect(validateMnemonic(badChecksum)).toBe(false)
    expect(validateMnemonic(unknownWord)).toBe(false)
    expect(validateMnemonic('')).toBe(false)
    expect(validateMnemonic(42 as unknown as string)).toBe(false)
    expectCode(() => mnemonicToPrivateKey(badChecksum), CryptoErrorCode.INVALID_MNEMONIC)
    expect(() => mnemonicToPrivateKey(badChecksum)).toThrow(/checksum/)
    expect(() => mnemonicToPrivateKey(unknownWord)).toThrow(/not in the English BIP-39 wordlist/)
    expect(() => deriveAccounts(tooShort, 1)).toThrow(/3 words/)
    expectCode(() => mnemonicToSeed(''), CryptoErrorCode.INVALID_MNEMONIC)
  })

  it('rejects bad paths and counts', () => {
    for (const path of ['', "44'/60'", "m/44'/x", "m/44''/60'", 'm/2147483648']) {
      expectCode(() => mnemonicToPrivateKey(TEST_MNEMONIC, path), CryptoErrorCode.INVALID_PATH)
    }
    expectCode(() => deriveAccounts(TEST_MNEMONIC, -1), CryptoErrorCode.INVALID_ARGUMENT)
    expectCode(() => deriveAccounts(TEST_MNEMONIC, 1.5), CryptoErrorCode.INVALID_ARGUMENT)
    expectCode(() => deriveAccounts(TEST_MNEMONIC, 1, 'nope'), CryptoErrorCode.INVALID_PATH)
  })
})
