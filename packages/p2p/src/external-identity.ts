/**
 * A node identity whose secp256k1 key is held outside this process (a PKCS#11 token: the node's
 * `p2p.identity` kind `hsm`), as libp2p's `PrivateKey`. libp2p reads only `publicKey` (the peer id)
 * and calls only `sign` (the Noise handshake's identity signature at every connection, identify's
 * signed peer record): both are served here; the private bytes (`raw`) do not exist in the
 * process, and reading them throws. Gossip is unsigned (StrictNoSign), so nothing signs per message.
 *
 * libp2p's secp256k1 signature is ECDSA over SHA-256 of the data, DER-encoded, and its verifiers
 * refuse a high s: the signer's `r ‖ s` is made low and DER-encoded here.
 */
import { createHash } from 'node:crypto'
import { ecdsaToDer } from '@cairn/crypto'
import { CairnError } from '@cairn/utils'
import { publicKeyFromRaw } from '@libp2p/crypto/keys'
import type { Secp256k1PrivateKey, Secp256k1PublicKey } from '@libp2p/interface'
import { P2pErrorCode } from './errors.ts'

type Signed = Parameters<Secp256k1PrivateKey['sign']>[0]

/** A secp256k1 key that signs outside this process: what the node's identity needs of it. */
export interface IdentitySigner {
  /** The secp256k1 public key: 33 bytes (compressed) or 65 (uncompressed). */
  readonly publicKey: Uint8Array
  /**
   * Signs a 32-byte digest: `r ‖ s` (64 bytes), or `r ‖ s ‖ v` (65), s high or low. Throws when
   * it cannot (a token gone): that connection's handshake fails, and the next one tries again.
   */
  sign(digest: Uint8Array): Uint8Array | Promise<Uint8Array>
}

/** libp2p's view of an identity held by `signer`. */
export function externalIdentityKey(signer: IdentitySigner): Secp256k1PrivateKey {
  let publicKey: Secp256k1PublicKey
  try {
    publicKey = publicKeyFromRaw(compressedSecp256k1(signer.publicKey)) as Secp256k1PublicKey
  } catch (err) {
    throw new CairnError(
      P2pErrorCode.IDENTITY,
      `the node identity's public key is not secp256k1: ${(err as Error).message}`,
      {
        fault: 'caller',
        cause: err,
        hint: 'the identity key must be a secp256k1 key (`cairn signer hsm import --key-file DATADIR/keys/node.key`)',
      },
    )
  }
  if (publicKey.type !== 'secp256k1') {
    throw new CairnError(P2pErrorCode.IDENTITY, `the node identity's public key is ${publicKey.type}, not secp256k1`, {
      fault: 'caller',
      hint: 'the identity key must be a secp256k1 key',
    })
  }
  return {
    type: 'secp256k1',
    publicKey,
    get raw(): Uint8Array {
      throw new CairnError(
        P2pErrorCode.IDENTITY,
        'the node identity key is held outside this process: it has no private bytes here',
        {
          fault: 'caller',
        },
      )
    },
    equals: (key?: unknown) =>
      key === undefined || key === null ? false : publicKey.equals((key as { publicKey?: unknown }).publicKey as never),
    async sign(data: Signed): Promise<Uint8Array> {
      const hash = createHash('sha256')
      if (data instanceof Uint8Array) hash.update(data)
      else for (const part of data) hash.update(part)
      return ecdsaToDer(await signer.sign(new Uint8Array(hash.digest())))
    },
  }
}

/**
 * Signs a probe with `key` and checks it against its public key: a key whose signer does not hold
 * the private key of its public key (a token's objects mismatched) is a start error, not a failed
 * handshake at every connection.
 * @throws CairnError `P2P_IDENTITY`
 */
export async function checkIdentityKey(key: Secp256k1PrivateKey): Promise<void> {
  const probe = new TextEncoder().encode('cairn: node identity check')
  let ok = false
  try {
    ok = await key.publicKey.verify(probe, await key.sign(probe))
  } catch (err) {
    throw new CairnError(P2pErrorCode.IDENTITY, `the node identity key does not sign: ${(err as Error).message}`, {
      fault: 'caller',
      cause: err,
      hint: 'check the HSM holding the identity key (p2p.identity)',
    })
  }
  if (!ok) {
    throw new CairnError(
      P2pErrorCode.IDENTITY,
      "the node identity key's signature does not verify against its public key",
      {
        fault: 'caller',
        hint: 'the private and public key objects of the identity key do not match: import the key again',
      },
    )
  }
}

/** A secp256k1 public key in its 33-byte form (libp2p's): a 65-byte `04 ‖ x ‖ y` compressed, anything else as it is. */
export function compressedSecp256k1(publicKey: Uint8Array): Uint8Array {
  if (publicKey.length !== 65 || publicKey[0] !== 4) return publicKey
  const out = new Uint8Array(33)
  out[0] = ((publicKey[64] as number) & 1) === 1 ? 3 : 2
  out.set(publicKey.subarray(1, 33), 1)
  return out
}
