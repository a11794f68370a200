import { chmodSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { CairnError } from '@cairn/utils'
import {
  generateKeyPair,
  privateKeyFromProtobuf,
  privateKeyFromRaw,
  privateKeyToProtobuf,
  publicKeyFromRaw,
} from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { peerIdFromPrivateKey, peerIdFromPublicKey } from '@libp2p/peer-id'
import { P2pErrorCode } from './errors.ts'

/**
 * The node's libp2p identity (an Ed25519 key, its peer id derived from it), kept in the datadir
 * (`p2p/nodekey`, libp2p's protobuf encoding, mode 0600) so the peer id survives restarts.
 * Made on first start.
 */
export async function loadOrCreateIdentity(path: string): Promise<{ key: PrivateKey; created: boolean }> {
  let bytes: Uint8Array | undefined
  try {
    bytes = readFileSync(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw identityError(path, err)
  }
  if (bytes) {
    if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600)
    try {
      return { key: privateKeyFromProtobuf(bytes), created: false }
    } catch (err) {
      throw identityError(path, err)
    }
  }
  const key = await generateKeyPair('Ed25519')
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
    const tmp = `${path}.tmp`
    writeFileSync(tmp, privateKeyToProtobuf(key), { mode: 0o600 })
    renameSync(tmp, path)
  } catch (err) {
    throw identityError(path, err)
  }
  return { key, created: true }
}

function identityError(path: string, cause: unknown): CairnError {
  return new CairnError(P2pErrorCode.IDENTITY, `cannot use the node key ${path}: ${(cause as Error).message}`, {
    fault: 'caller',
    cause,
    hint: 'the file must be readable by this user; delete it to make a new identity (a new peer id)',
  })
}

/** The peer id (`16Uiu2…`) of a node whose identity is the secp256k1 key `raw` (the node's `keys/node.key`). */
export function peerIdOfSecp256k1(raw: Uint8Array): string {
  return peerIdFromPrivateKey(privateKeyFromRaw(raw)).toString()
}

/** The peer id of a node whose identity is the secp256k1 public key `publicKey` (33 or 65 bytes): a key on an HSM. */
export function peerIdOfSecp256k1PublicKey(publicKey: Uint8Array): string {
  return peerIdFromPublicKey(publicKeyFromRaw(compressedSecp256k1(publicKey))).toString()
}

/** A secp256k1 public key in its 33-byte form (libp2p's): a 65-byte `04 ‖ x ‖ y` compressed, anything else as it is. */
export function compressedSecp256k1(publicKey: Uint8Array): Uint8Array {
  if (publicKey.length !== 65 || publicKey[0] !== 4) return publicKey
  const out = new Uint8Array(33)
  out[0] = ((publicKey[64] as number) & 1) === 1 ? 3 : 2
  out.set(publicKey.subarray(1, 33), 1)
  return out
}
