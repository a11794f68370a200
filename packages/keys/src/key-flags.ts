/**
 * The flags that put a signing key outside the process, the same on every command that signs
 * transactions (`cairn arb deploy|start`, `cairn reserves anchor|registry`): a key on a PKCS#11
 * token (`--hsm-*`) or on a remote signer (`--remote-signer*`). Each product keeps its own flags
 * for a key file; this reads the rest and refuses half a source or two at once, before anything
 * is opened.
 */
import { CairnError } from '@cairn/utils'
import { KeysErrorCode } from './errors.ts'
import type { HsmKeySource } from './hsm-account.ts'

export interface ExternalKeyFlags {
  hsmModule?: string
  hsmToken?: string
  hsmKey?: string
  hsmPinFile?: string
  remoteSigner?: string
  remoteSignerCa?: string
  remoteSignerCert?: string
  remoteSignerKey?: string
  remoteSignerAddress?: string
}

/** A transaction key on a remote signer (`cairn signer serve --tx-keystore`). */
export interface RemoteKeySource {
  /** `tls://host:port`. */
  url: string
  /** PEM files: the CA the signer's certificate chains to, this client's certificate, its key (0600). */
  caFile: string
  certFile: string
  keyFile: string
  /** The key's address, when the signer holds several transaction keys. */
  address?: string
}

export type ExternalKeySource = { hsm: HsmKeySource } | { remote: RemoteKeySource }

/** What the flags say of a key outside the process; `local` names the key-file flags given, if any. */
export function externalKeySource(
  o: ExternalKeyFlags,
  local: string | null,
  sources: string,
): ExternalKeySource | null {
  const bad = (message: string) => new CairnError(KeysErrorCode.KEY_SOURCE, message, { fault: 'caller', hint: sources })
  const hsm = [o.hsmModule, o.hsmToken, o.hsmKey, o.hsmPinFile].some((v) => v !== undefined)
  const remote = [o.remoteSigner, o.remoteSignerCa, o.remoteSignerCert, o.remoteSignerKey, o.remoteSignerAddress].some(
    (v) => v !== undefined,
  )
  if (hsm && remote) throw bad('a key on an HSM and a key on a remote signer were both given')
  if ((hsm || remote) && local !== null)
    throw bad(`a key on ${hsm ? 'an HSM' : 'a remote signer'} and ${local} were both given`)
  if (hsm) {
    if (!o.hsmModule || !o.hsmToken || !o.hsmKey || !o.hsmPinFile)
      throw bad('a key on an HSM needs --hsm-module, --hsm-token, --hsm-key and --hsm-pin-file')
    return { hsm: { module: o.hsmModule, token: o.hsmToken, key: o.hsmKey, pinFile: o.hsmPinFile } }
  }
  if (remote) {
    if (!o.remoteSigner || !o.remoteSignerCa || !o.remoteSignerCert || !o.remoteSignerKey)
      throw bad(
        'a key on a remote signer needs --remote-signer, --remote-signer-ca, --remote-signer-cert and --remote-signer-key',
      )
    if (o.remoteSignerAddress !== undefined && !/^0x[0-9a-fA-F]{40}$/.test(o.remoteSignerAddress))
      throw bad(`--remote-signer-address ${o.remoteSignerAddress} is not an address`)
    return {
      remote: {
        url: o.remoteSigner,
        caFile: o.remoteSignerCa,
        certFile: o.remoteSignerCert,
        keyFile: o.remoteSignerKey,
        ...(o.remoteSignerAddress !== undefined ? { address: o.remoteSignerAddress } : {}),
      },
    }
  }
  return null
}

/** The help of the external key flags: [flag, description] pairs for commander's `.option`. */
export const EXTERNAL_KEY_OPTIONS: readonly (readonly [string, string])[] = [
  ['--hsm-module <file>', 'the PKCS#11 library of the HSM holding the key (SoftHSM2: /usr/lib/softhsm/libsofthsm2.so)'],
  ['--hsm-token <label>', "the HSM token's label"],
  ['--hsm-key <label>', "the key's label on the token (secp256k1; it never leaves the token)"],
  ['--hsm-pin-file <file>', 'a file holding the user PIN (mode 0600)'],
  ['--remote-signer <url>', 'tls://HOST:PORT of a `cairn signer serve` holding the key (--tx-keystore there)'],
  ['--remote-signer-ca <file>', "the CA the signer's certificate chains to (PEM)"],
  ['--remote-signer-cert <file>', "this client's certificate (PEM), pinned by the signer (--client)"],
  ['--remote-signer-key <file>', "this client's private key (PEM, mode 0600)"],
  ['--remote-signer-address <address>', 'the key, when the signer holds several transaction keys'],
]
