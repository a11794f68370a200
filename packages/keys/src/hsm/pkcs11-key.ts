import { CairnError } from '@cairn/utils'
import type { Address, DigestKey } from '../digest-key.ts'
import { KeysErrorCode } from '../errors.ts'
import { toRecoverableSignature } from './ec-key.ts'
import type { HsmMetrics } from './hsm-metrics.ts'
import type { Pkcs11Token } from './pkcs11-token.ts'

export interface Pkcs11KeyOptions {
  /** CKA_LABEL of the key pair on the token. */
  label: string
  /** Its address (from the public key object). */
  address: Address
  /** Its uncompressed public key (65 bytes, from the public key object). */
  publicKey: Uint8Array
}

export interface Pkcs11KeyModules {
  token: Pkcs11Token
  metrics?: HsmMetrics | null
  /** A monotonic clock in milliseconds (default `performance.now`). */
  now?: (() => number) | undefined
}

/**
 * A validator key on a PKCS#11 token ({@link Pkcs11Token.key}): signs a digest with CKM_ECDSA,
 * then makes the signature Cairn's (low s, v found by recovering to its own address, ec-key.ts).
 * Made by the token, which checked the key is there and is secp256k1.
 */
export class Pkcs11Key implements DigestKey {
  readonly label: string
  readonly address: Address
  /** The uncompressed secp256k1 public key (65 bytes): what a libp2p identity on the token is known by. */
  readonly publicKey: Uint8Array
  readonly #m: Pkcs11KeyModules

  constructor(opts: Pkcs11KeyOptions, modules: Pkcs11KeyModules) {
    this.label = opts.label
    this.address = opts.address
    this.publicKey = opts.publicKey
    this.#m = modules
  }

  /** 65 bytes `r ‖ s ‖ v` (low s); throws KEYS_KEY_UNAVAILABLE when the token does not sign. */
  sign(digest: Uint8Array): Uint8Array {
    const now = this.#m.now ?? (() => performance.now())
    const t0 = now()
    const rs = this.#m.token.signRaw(this.label, digest)
    const sig = toRecoverableSignature(rs, digest, this.address)
    this.#m.metrics?.signSeconds.observe((now() - t0) / 1000)
    if (sig === null) {
      this.#m.metrics?.signErrors.inc({ reason: 'device' })
      throw new CairnError(
        KeysErrorCode.HSM_KEY_UNSUPPORTED,
        `HSM key "${this.label}" made a signature that does not recover to its public key`,
        {
          fault: 'caller',
          hint: 'the private and public key objects of this label do not match: import the key again',
        },
      )
    }
    return sig
  }
}
