/**
 * BIP-39 mnemonics, BIP-32 derivation and BIP-44 Ethereum accounts (m/44'/60'/0'/0/i).
 * English wordlist only. Mnemonics are normalised (NFKD, lower-case, single spaces) before use.
 */
import { pbkdf2Sync } from 'node:crypto'
import { errorMessage, type Hex } from '@cairn/utils'
import { HDKey } from '@scure/bip32'
import { entropyToMnemonic, generateMnemonic as scureGenerate, validateMnemonic as scureValidate } from '@scure/bip39'
import { wordlist } from '@scure/bip39/wordlists/english'
import { toChecksumAddress } from './address.ts'
import { CryptoErrorCode, cryptoError } from './errors.ts'
import { privateKeyToAddress } from './secp256k1.ts'

/** The default Ethereum account path (first account). */
export const DEFAULT_HD_PATH = "m/44'/60'/0'/0/0"
/** The default Ethereum account base path; account i is `${DEFAULT_HD_BASE_PATH}/${i}`. */
export const DEFAULT_HD_BASE_PATH = "m/44'/60'/0'/0"

/** One derived account. */
export interface HdAccount {
  /** Child index under the base path. */
  index: number
  /** Full derivation path, e.g. "m/44'/60'/0'/0/3". */
  path: string
  /** 32-byte private key. */
  privateKey: Uint8Array
  /** EIP-55 checksummed address. */
  address: Hex
}

const STRENGTHS = [128, 160, 192, 224, 256]
const MAX_ACCOUNTS = 10_000

/** NFKD, trimmed, lower-case, words separated by single spaces. */
function normaliseMnemonic(mnemonic: string): string {
  return mnemonic.normalize('NFKD').trim().toLowerCase().split(/\s+/u).join(' ')
}

function requireMnemonic(mnemonic: string): string {
  if (typeof mnemonic !== 'string') {
    throw cryptoError(CryptoErrorCode.INVALID_MNEMONIC, 'mnemonic must be a string of English BIP-39 words')
  }
  const m = normaliseMnemonic(mnemonic)
  if (!scureValidate(m, wordlist)) {
    const words = m === '' ? [] : m.split(' ')
    const unknown = words.filter((w) => !wordlist.includes(w))
    const reason =
      unknown.length > 0
        ? `${unknown.length} word(s) are not in the English BIP-39 wordlist`
        : ![12, 15, 18, 21, 24].includes(words.length)
          ? `it has ${words.length} words; expected 12, 15, 18, 21 or 24`
          : 'its checksum does not match (a word is wrong or the words are out of order)'
    throw cryptoError(CryptoErrorCode.INVALID_MNEMONIC, `invalid mnemonic: ${reason}`, {
      hint: 'check the phrase word by word; only the English wordlist is supported',
      meta: { words: words.length, unknownWords: unknown.length },
    })
  }
  return m
}

function seedOf(normalisedMnemonic: string, passphrase: string): Uint8Array {
  if (typeof passphrase !== 'string')
    throw cryptoError(CryptoErrorCode.INVALID_ARGUMENT, 'BIP-39 passphrase must be a string')
  const salt = `mnemonic${passphrase.normalize('NFKD')}`
  return new Uint8Array(pbkdf2Sync(normalisedMnemonic, salt, 2048, 64, 'sha512'))
}

/**
 * BIP-39 seed (64 bytes): PBKDF2-HMAC-SHA512(mnemonic, "mnemonic" + passphrase, 2048 rounds), with
 * the mnemonic validated and normalised and the passphrase NFKD-normalised.
 * @throws CairnError `CRYPTO_INVALID_MNEMONIC`
 */
export function mnemonicToSeed(mnemonic: string, passphrase = ''): Uint8Array {
  return seedOf(requireMnemonic(mnemonic), passphrase)
}

function derive(root: HDKey, path: string): HDKey {
  if (typeof path !== 'string' || !/^m(\/\d+'?)*$/.test(path)) {
    throw cryptoError(CryptoErrorCode.INVALID_PATH, `invalid derivation path ${JSON.stringify(path)}`, {
      hint: `use the form m/44'/60'/0'/0/0 (indices, ' for hardened)`,
    })
  }
  try {
    return root.derive(path)
  } catch (err) {
    throw cryptoError(CryptoErrorCode.INVALID_PATH, `cannot derive path ${path}: ${errorMessage(err)}`, { cause: err })
  }
}

function rootKey(mnemonic: string, passphrase: string): HDKey {
  return HDKey.fromMasterSeed(mnemonicToSeed(mnemonic, passphrase))
}

function privateKeyOf(key: HDKey, path: string): Uint8Array {
  const pk = key.privateKey
  if (pk === null) throw cryptoError(CryptoErrorCode.INVALID_PATH, `no private key at ${path}`, { fault: 'internal' })
  return new Uint8Array(pk)
}

/**
 * A new random English BIP-39 mnemonic. `strength` is the entropy in bits: 128 (12 words, default),
 * 160, 192, 224 or 256 (24 words).
 * @throws CairnError `CRYPTO_INVALID_ARGUMENT` for another strength
 */
export function generateMnemonic(strength = 128): string {
  if (!STRENGTHS.includes(strength)) {
    throw cryptoError(
      CryptoErrorCode.INVALID_ARGUMENT,
      `mnemonic strength must be one of ${STRENGTHS.join(', ')} bits, got ${strength}`,
    )
  }
  return scureGenerate(wordlist, strength)
}

/**
 * The English BIP-39 mnemonic of `entropy` (16, 20, 24, 28 or 32 bytes: 12 to 24 words). For a
 * mnemonic made from a known seed (tests, Anvil's `--mnemonic-seed-unsafe`): never for real funds.
 * @throws CairnError `CRYPTO_INVALID_ARGUMENT` for another length
 */
export function mnemonicFromEntropy(entropy: Uint8Array): string {
  if (!STRENGTHS.includes(entropy.length * 8)) {
    throw cryptoError(
      CryptoErrorCode.INVALID_ARGUMENT,
      `mnemonic entropy must be one of ${STRENGTHS.map((s) => s / 8).join(', ')} bytes, got ${entropy.length}`,
    )
  }
  return entropyToMnemonic(entropy, wordlist)
}

/** True when `mnemonic` (after normalisation) is a valid English BIP-39 mnemonic. Never throws. */
export function validateMnemonic(mnemonic: string): boolean {
  return typeof mnemonic === 'string' && scureValidate(normaliseMnemonic(mnemonic), wordlist)
}

/**
 * The private key at `path` (default m/44'/60'/0'/0/0) of a BIP-39 mnemonic with optional passphrase.
 * @throws CairnError `CRYPTO_INVALID_MNEMONIC`, `CRYPTO_INVALID_PATH`
 */
export function mnemonicToPrivateKey(mnemonic: string, path: string = DEFAULT_HD_PATH, passphrase = ''): Uint8Array {
  return privateKeyOf(derive(rootKey(mnemonic, passphrase), path), path)
}

/**
 * The first `count` accounts `basePath/0 .. basePath/(count-1)` of a mnemonic (dev accounts, wallets).
 * @throws CairnError `CRYPTO_INVALID_MNEMONIC`, `CRYPTO_INVALID_PATH`, `CRYPTO_INVALID_ARGUMENT` (count)
 */
export function deriveAccounts(
  mnemonic: string,
  count: number,
  basePath: string = DEFAULT_HD_BASE_PATH,
  passphrase = '',
): HdAccount[] {
  if (!Number.isSafeInteger(count) || count < 0 || count > MAX_ACCOUNTS) {
    throw cryptoError(
      CryptoErrorCode.INVALID_ARGUMENT,
      `account count must be an integer between 0 and ${MAX_ACCOUNTS}, got ${count}`,
    )
  }
  const base = derive(rootKey(mnemonic, passphrase), basePath)
  const accounts: HdAccount[] = []
  for (let index = 0; index < count; index++) {
    const path = `${basePath}/${index}`
    const privateKey = privateKeyOf(base.deriveChild(index), path)
    accounts.push({ index, path, privateKey, address: toChecksumAddress(privateKeyToAddress(privateKey)) })
  }
  return accounts
}
