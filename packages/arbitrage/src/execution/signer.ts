// The signing key, from a Web3 Secret Storage v3 keystore (the node's code in @cairn/crypto) with
// its password in a file, or a raw hex key in a file (a secret manager's file mount). The key never
// leaves this function except inside the viem account; nothing here logs it or its password.
import { readFile } from 'node:fs/promises'
import { decryptKeystore } from '@cairn/crypto'
import { bytesToHex, CairnError } from '@cairn/utils'
import { type PrivateKeyAccount, privateKeyToAccount } from 'viem/accounts'
import { ArbErrorCode } from '../errors.ts'

export type KeySource = { keystore: string; passwordFile: string } | { keyFile: string }

function unreadable(what: string, cause?: unknown, hint?: string): CairnError {
  return new CairnError(ArbErrorCode.KEY_UNREADABLE, what, {
    fault: 'caller',
    ...(cause ? { cause } : {}),
    ...(hint ? { hint } : {}),
  })
}

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8')
  } catch (err) {
    throw unreadable(`cannot read the ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, err)
  }
}

/** Loads the signing account. Errors name the file, never its content. */
export async function loadSigner(src: KeySource): Promise<PrivateKeyAccount> {
  if ('keyFile' in src) {
    const text = (await readText(src.keyFile, 'key file')).trim()
    const hex = text.startsWith('0x') ? text : `0x${text}`
    if (!/^0x[0-9a-fA-F]{64}$/.test(hex))
      throw unreadable(
        `the key file ${src.keyFile} does not hold a 32-byte hex key`,
        undefined,
        'one line of 64 hex digits',
      )
    return privateKeyToAccount(hex as `0x${string}`)
  }
  // a password file's trailing newline is not part of the password (as geth's --password)
  const password = (await readText(src.passwordFile, 'password file')).replace(/\r?\n$/, '')
  let json: unknown
  try {
    json = JSON.parse(await readText(src.keystore, 'keystore'))
  } catch (err) {
    if (err instanceof CairnError) throw err
    throw unreadable(`the keystore ${src.keystore} is not JSON`, err)
  }
  let key: Uint8Array
  try {
    key = await decryptKeystore(json, password)
  } catch (err) {
    throw unreadable(`cannot decrypt the keystore ${src.keystore} (wrong password or damaged file)`, err)
  }
  const account = privateKeyToAccount(bytesToHex(key) as `0x${string}`)
  key.fill(0)
  return account
}
