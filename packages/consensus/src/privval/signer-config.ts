/**
 * Where a validator's votes and proposals are signed: the node's config `bft.signer`
 * (docs/operations/keys.md), which the node's config loader validates and hands to
 * `openValidatorSigner`.
 * - `local`: the key in `DATADIR/keys/validator.key` (and its ML-DSA seed beside it on a
 *   post-quantum chain), behind the signer state `DATADIR/keys/validator.state.json`;
 * - `remote`: a `cairn signer serve` process over mutual TLS (`url` tls://HOST:PORT, `ca`, `cert`,
 *   `key` PEM files; `address` the key when it holds several, `nextAddress` the key it rotates to;
 *   `timeoutMs` the longest wait for a signature);
 * - `hsm`: a key on a PKCS#11 token in this process (`module`, `token`, `pinFile`, `key` the key's
 *   label, `nextKey` the label of the key it rotates to), the signer state in the datadir.
 */
export type ValidatorSignerConfig =
  | { kind: 'local' }
  | {
      kind: 'remote'
      url: string
      ca: string
      cert: string
      key: string
      address?: string | undefined
      nextAddress?: string | undefined
      timeoutMs: number
    }
  | HsmSignerConfig

/** `bft.signer` kind `hsm`. */
export interface HsmSignerConfig {
  kind: 'hsm'
  /** The PKCS#11 library. */
  module: string
  /** The token's label. */
  token: string
  /** A file holding the user PIN (owner-only). */
  pinFile: string
  /** The validator key's label on the token. */
  key: string
  /** The label of the key it rotates to. */
  nextKey?: string | undefined
}

/** `bft.signer` kind `remote`. */
export type RemoteSignerConfig = Extract<ValidatorSignerConfig, { kind: 'remote' }>
