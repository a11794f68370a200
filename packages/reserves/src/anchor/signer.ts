import { readFileSync } from 'node:fs'
import { decryptKeystore } from '@cairn/crypto'
import {
  type ExternalKeySource,
  openHsmAccount,
  openRemoteTxAccount,
  readSecretFile as readOwnerOnly,
} from '@cairn/keys'
import { CairnError, silentLogger } from '@cairn/utils'
import { type LocalAccount, privateKeyToAccount } from 'viem/accounts'
import { ReservesErrorCode } from '../errors.ts'

/**
 * Where the signing key of `anchor` / `registry deploy` comes from: a keystore, a hex key file, or
 * a key that never enters this process: on a PKCS#11 token (@cairn/keys) or a remote signer
 * (`cairn signer serve --tx-keystore`). Never the key itself on argv.
 */
export type KeySource = { keyFile: string; passwordFile: string } | { privateKeyFile: string } | ExternalKeySource

/** The signing account, and what releases its key (logs out of the token) once nothing signs. */
export interface LoadedSigner {
  account: LocalAccount
  close(): void
}

const keyError = (message: string, hint: string, cause?: unknown) =>
  new CairnError(ReservesErrorCode.KEY_INVALID, message, { fault: 'caller', hint, ...(cause ? { cause } : {}) })

/** A key or password file, owner-only (@cairn/keys), its errors this domain's. */
function readSecretFile(path: string, what: string): string {
  try {
    return readOwnerOnly(path, what)
  } catch (err) {
    if (!(err instanceof CairnError)) throw err
    throw keyError(err.message, err.hint ?? 'check the path', err)
  }
}

/**
 * The local account that signs anchoring and deployment transactions: a Web3 Secret Storage v3
 * keystore and its password file, or a raw hex private key file. Key and password files must be
 * readable by their owner only (mode 0600), as geth's keystore is.
 */
export async function loadSigner(source: KeySource): Promise<LoadedSigner> {
  if ('hsm' in source) return openHsmAccount(source.hsm)
  if ('remote' in source) return openRemoteTxAccount(source.remote, { logger: silentLogger })
  return { account: await loadLocal(source), close: () => {} }
}

async function loadLocal(source: Exclude<KeySource, ExternalKeySource>): Promise<LocalAccount> {
  let key: Uint8Array
  if ('privateKeyFile' in source) {
    const hex = readSecretFile(source.privateKeyFile, 'private key file').trim().replace(/^0x/, '')
    if (!/^[0-9a-fA-F]{64}$/.test(hex))
      throw keyError(`${source.privateKeyFile} does not hold a 32-byte hex private key`, 'write 64 hex digits')
    key = Uint8Array.from(Buffer.from(hex, 'hex'))
  } else {
    const password = readSecretFile(source.passwordFile, 'password file').replace(/\r?\n$/, '')
    let json: unknown
    try {
      json = JSON.parse(readFileSync(source.keyFile, 'utf8'))
    } catch (err) {
      throw keyError(`cannot read the keystore ${source.keyFile} as JSON`, 'pass a Web3 Secret Storage v3 file', err)
    }
    try {
      key = await decryptKeystore(json, password)
    } catch (err) {
      throw keyError(
        `cannot decrypt the keystore ${source.keyFile}: ${(err as Error).message}`,
        'check --password-file',
        err,
      )
    }
  }
  try {
    return privateKeyToAccount(`0x${Buffer.from(key).toString('hex')}`)
  } catch (err) {
    throw keyError('the private key is not a valid secp256k1 key', 'use a key in [1, n-1]', err)
  } finally {
    key.fill(0)
  }
}
