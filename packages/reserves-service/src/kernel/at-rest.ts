import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto'
import { ReservesErrorCode } from '@cairn/reserves'
import { CairnError } from '@cairn/utils'

/** A 32-byte AES-256-GCM key and the id stored beside every row it encrypts (for rotation). */
export interface AtRestKey {
  id: string
  key: Uint8Array
}

/** Parses a key file: 64 hex characters (optionally 0x), whitespace ignored. Id = first 8 hex of HMAC(key, "id"). */
export function parseKeyFile(text: string): AtRestKey {
  const hex = text.trim().replace(/^0x/, '')
  if (!/^[0-9a-fA-F]{64}$/.test(hex))
    throw new CairnError(
      ReservesErrorCode.KEY_INVALID,
      'the at-rest key file must hold 32 bytes as 64 hex characters',
      {
        fault: 'caller',
        hint: 'create one with: openssl rand -hex 32 > reserves.key',
      },
    )
  const key = new Uint8Array(Buffer.from(hex, 'hex'))
  return { id: createHmac('sha256', key).update('cairn-reserves-key-id').digest('hex').slice(0, 16), key }
}

/** Encrypts `plain`: 12-byte nonce ‖ ciphertext ‖ 16-byte tag, bound to `aad` (e.g. the snapshot id). */
export function seal(k: AtRestKey, plain: Uint8Array, aad: string): Uint8Array {
  const iv = randomBytes(12)
  const c = createCipheriv('aes-256-gcm', k.key, iv)
  c.setAAD(Buffer.from(aad))
  const body = Buffer.concat([c.update(plain), c.final()])
  return new Uint8Array(Buffer.concat([iv, body, c.getAuthTag()]))
}

/** Decrypts what {@link seal} produced; throws RESERVES_KEY_INVALID when the key or data is wrong. */
export function open(k: AtRestKey, sealed: Uint8Array, aad: string): Uint8Array {
  try {
    const b = Buffer.from(sealed)
    const d = createDecipheriv('aes-256-gcm', k.key, b.subarray(0, 12))
    d.setAAD(Buffer.from(aad))
    d.setAuthTag(b.subarray(b.length - 16))
    return new Uint8Array(Buffer.concat([d.update(b.subarray(12, b.length - 16)), d.final()]))
  } catch (err) {
    throw new CairnError(ReservesErrorCode.KEY_INVALID, 'a stored row does not decrypt with the at-rest key', {
      fault: 'internal',
      cause: err,
      hint: 'the key file changed or the row was tampered with',
    })
  }
}

/** The lookup key of a user id: HMAC-SHA256(key, snapshot id ‖ 0x00 ‖ user id). */
export function userKey(k: AtRestKey, snapshotId: string, userId: string): Uint8Array {
  return new Uint8Array(createHmac('sha256', k.key).update(snapshotId).update('\0').update(userId).digest())
}
