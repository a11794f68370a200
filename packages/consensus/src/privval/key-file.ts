import { randomBytes } from 'node:crypto'
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { isValidPrivateKey, privateKeyToAddress, toChecksumAddress } from '@cairn/crypto'
import { bytesToHex, CairnError } from '@cairn/utils'
import { ConsensusErrorCode } from '../errors.ts'

/** A secp256k1 key kept as a hex file in the datadir. */
export interface KeyFile {
  path: string
  privateKey: Uint8Array
  /** EIP-55 checksummed. */
  address: string
}

/** Refuses a key file that anyone but its owner can read or write. */
export function checkKeyFilePermissions(path: string, label: string): void {
  const mode = statSync(path).mode & 0o777
  if ((mode & 0o077) !== 0) {
    throw new CairnError(
      ConsensusErrorCode.KEY_FILE_PERMISSIONS,
      `${label} ${path} has mode ${mode.toString(8).padStart(4, '0')}: it is readable or writable by other users`,
      { fault: 'caller', hint: `run \`chmod 600 ${path}\` (and check who could have read it)` },
    )
  }
}

/**
 * Reads the key at `path` after checking its permissions, or creates it from the OS CSPRNG with
 * mode 0600 (written to a temporary file and renamed, so a crash leaves no half-written key).
 */
export function loadOrCreateKey(path: string, label: string): KeyFile {
  if (existsSync(path)) {
    checkKeyFilePermissions(path, label)
    const text = readFileSync(path, 'utf8').trim().replace(/^0x/, '')
    const key = Uint8Array.from(Buffer.from(text, 'hex'))
    if (!/^[0-9a-fA-F]{64}$/.test(text) || !isValidPrivateKey(key)) {
      throw new CairnError(
        ConsensusErrorCode.KEY_FILE_INVALID,
        `${label} ${path} does not hold a valid secp256k1 key`,
        {
          fault: 'caller',
          hint: 'restore the file from your key backup, or move it away to create a new key',
        },
      )
    }
    return { path, privateKey: key, address: toChecksumAddress(bytesToHex(privateKeyToAddress(key))) }
  }
  let key: Uint8Array
  do key = Uint8Array.from(randomBytes(32))
  while (!isValidPrivateKey(key))
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
  const tmp = `${path}.tmp-${process.pid}`
  writeFileSync(tmp, `${Buffer.from(key).toString('hex')}\n`, { mode: 0o600 })
  chmodSync(tmp, 0o600)
  renameSync(tmp, path)
  return { path, privateKey: key, address: toChecksumAddress(bytesToHex(privateKeyToAddress(key))) }
}
