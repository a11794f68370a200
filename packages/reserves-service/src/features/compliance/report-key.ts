// The Ed25519 key that signs auditor reports: a PKCS#8 PEM file (`openssl genpkey -algorithm
// ed25519 -out report.key`) or 32 bytes as 64 hex characters (a raw seed).
import { createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto'
import { ReservesErrorCode } from '@cairn/reserves'
import { CairnError } from '@cairn/utils'
import type { ReportKey } from './options.ts'

/** DER of a PKCS#8 Ed25519 private key before its 32-byte seed. */
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex')
/** DER of an SPKI Ed25519 public key before its 32 bytes. */
const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex')

const bad = (message: string) =>
  new CairnError(ReservesErrorCode.BAD_OPTIONS, message, {
    fault: 'caller',
    hint: 'create one with: openssl genpkey -algorithm ed25519 -out report.key (or openssl rand -hex 32)',
  })

/** The raw 32-byte public key of an Ed25519 key object, hex. */
export function rawPublicKey(k: KeyObject): string {
  const der = createPublicKey(k).export({ format: 'der', type: 'spki' })
  return Buffer.from(der.subarray(der.length - 32)).toString('hex')
}

/** An Ed25519 public key object from its raw 32 bytes (hex). */
export function publicKeyFromHex(hex: string): KeyObject {
  if (!/^[0-9a-fA-F]{64}$/.test(hex))
    throw bad(`an Ed25519 public key is 64 hex characters, not ${JSON.stringify(hex)}`)
  return createPublicKey({ key: Buffer.concat([SPKI_ED25519, Buffer.from(hex, 'hex')]), format: 'der', type: 'spki' })
}

export const keyIdOf = (publicKeyHex: string) =>
  createHash('sha256').update(Buffer.from(publicKeyHex, 'hex')).digest('hex').slice(0, 16)

/** Parses the report key file's text (`source` names it in errors). */
export function parseReportKey(text: string, source: string): ReportKey {
  let privateKey: KeyObject
  const t = text.trim()
  try {
    if (t.includes('-----BEGIN')) privateKey = createPrivateKey(t)
    else if (/^(0x)?[0-9a-fA-F]{64}$/.test(t))
      privateKey = createPrivateKey({
        key: Buffer.concat([PKCS8_ED25519, Buffer.from(t.replace(/^0x/, ''), 'hex')]),
        format: 'der',
        type: 'pkcs8',
      })
    else throw bad(`${source} is neither a PEM private key nor 64 hex characters`)
  } catch (err) {
    if (err instanceof CairnError) throw err
    throw bad(`${source} is not a usable private key: ${(err as Error).message}`)
  }
  if (privateKey.asymmetricKeyType !== 'ed25519')
    throw bad(`${source} is a ${privateKey.asymmetricKeyType} key; reports are signed with Ed25519`)
  const publicKeyHex = rawPublicKey(privateKey)
  return { privateKey, publicKeyHex, keyId: keyIdOf(publicKeyHex) }
}
