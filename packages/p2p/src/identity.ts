import { chmodSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { CairnError, type Logger } from '@cairn/utils'
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
import { checkIdentityKey, compressedSecp256k1, externalIdentityKey, type IdentitySigner } from './external-identity.ts'

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

/**
 * The node's identity, first found of: one held outside the process (`identity`, checked by a probe
 * signature), the raw secp256k1 key the node hands over (`identityKey`), the Ed25519 key in
 * `dir/nodekey` (made on first start), a new Ed25519 key for this run.
 * @throws CairnError `P2P_IDENTITY`
 */
export async function nodeIdentityKey(
  opts: { identityKey?: Uint8Array | undefined; dir: string | null },
  modules: { identity?: IdentitySigner | null | undefined; logger: Logger },
): Promise<PrivateKey> {
  if (modules.identity) {
    const key = externalIdentityKey(modules.identity)
    await checkIdentityKey(key)
    return key
  }
  if (opts.identityKey) return privateKeyFromRaw(opts.identityKey)
  if (opts.dir) {
    const identity = await loadOrCreateIdentity(join(opts.dir, 'nodekey'))
    if (identity.created) modules.logger.info('made a new node key')
    return identity.key
  }
  return generateKeyPair('Ed25519')
}
