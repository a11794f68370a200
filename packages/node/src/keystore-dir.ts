import { chmodSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { encryptKeystore, type KeystoreV3, toChecksumAddress } from '@cairn/crypto'
import { CairnError, type Hex } from '@cairn/utils'
import { NodeErrorCode } from './errors.ts'

export interface KeystoreEntry {
  address: Hex
  file: string
}

/** Lists the keystores of a directory (files whose JSON has an address). */
export function listKeystores(dir: string): KeystoreEntry[] {
  let names: string[]
  try {
    names = readdirSync(dir).sort()
  } catch {
    return []
  }
  const out: KeystoreEntry[] = []
  for (const name of names) {
    const file = join(dir, name)
    try {
      const json = JSON.parse(readFileSync(file, 'utf8')) as { address?: string }
      if (typeof json.address === 'string')
        out.push({ address: toChecksumAddress(`0x${json.address.replace(/^0x/, '')}` as Hex), file })
    } catch {
      // not a keystore file
    }
  }
  return out
}

/** Encrypts and writes a key as geth does: `UTC--<time>--<address>`, mode 0600, atomically. */
export async function writeKeystore(
  dir: string,
  privateKey: Uint8Array,
  password: string,
  scrypt?: { n: number },
): Promise<KeystoreEntry> {
  const json: KeystoreV3 = await encryptKeystore(privateKey, password, scrypt ? { n: scrypt.n } : {})
  const address = toChecksumAddress(`0x${json.address}` as Hex)
  if (listKeystores(dir).some((e) => e.address === address)) {
    throw new CairnError(NodeErrorCode.ACCOUNT_EXISTS, `account ${address} already exists in ${dir}`, {
      fault: 'caller',
    })
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const stamp = new Date().toISOString().replace(/:/g, '-')
  const file = join(dir, `UTC--${stamp}--${json.address}`)
  const tmp = `${file}.tmp`
  writeFileSync(tmp, JSON.stringify(json), { mode: 0o600 })
  chmodSync(tmp, 0o600)
  renameSync(tmp, file)
  return { address, file }
}
