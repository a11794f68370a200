/**
 * Where the bridge system contract keeps its state: every word in its own account's storage at
 * {@link BRIDGE_ADDRESS}, so every node of a shard agrees on it and a relayer proves it with
 * `eth_getProof`. Each kind of entry has its own tag in the slot's preimage (never reused):
 *
 *   tag 1  commitment[dest][seq]       keccak256(message)                    (message.ts)
 *   tag 2  receipt[source][seq]        keccak256(status ‖ hash ‖ keccak(ack)) (message.ts)
 *   tag 3  sent[dest]                  the last sequence sent to dest
 *   tag 4  received[source]            the last sequence received from source
 *   tag 5  client[shard]               the light client's state (a blob: length, then words)
 *   tag 6  root[shard][height]         a verified header's state root (the last 4,096 kept)
 *
 * The genesis places the account (nonce 1, so it is never an empty account) with the light client
 * of every other shard at its genesis ({@link bridgeGenesisAlloc}).
 */
import { keccak256 } from '@cairn/crypto'
import { bytesToHex, CairnError, type Hex } from '@cairn/utils'
import { RLP } from '@ethereumjs/rlp'
import type { SignatureScheme } from '../bft/pq/scheme.ts'
import { ShardErrorCode } from './errors.ts'
import { genesisClientState, type LightClientState, type ShardLightClientOptions } from './light-client.ts'

/** The bridge system contract's address on every shard (a stateful precompile over this account). */
export const BRIDGE_ADDRESS: Hex = '0x0000000000000000000000000000000000001100'

/** How many recent verified heights' state roots the bridge keeps per shard. */
export const ROOT_WINDOW = 4096

export function word(v: bigint): Uint8Array {
  return Uint8Array.from(Buffer.from(v.toString(16).padStart(64, '0'), 'hex'))
}

export function wordValue(w: Uint8Array | undefined): bigint {
  return w === undefined || w.length === 0 ? 0n : BigInt(`0x${Buffer.from(w).toString('hex')}`)
}

const slotOf = (...parts: bigint[]) => keccak256(Buffer.concat(parts.map(word)))

export const sentSlot = (dest: number) => slotOf(3n, BigInt(dest))
export const receivedSlot = (source: number) => slotOf(4n, BigInt(source))
export const clientSlot = (shard: number) => slotOf(5n, BigInt(shard))
export const rootSlot = (shard: number, height: number) => slotOf(6n, BigInt(shard), BigInt(height))

/** The slot `i` words after `base` (a blob's words follow its length word). */
export function slotPlus(base: Uint8Array, i: number): Uint8Array {
  return word((wordValue(base) + BigInt(i)) % (1n << 256n))
}

const SCHEMES: readonly SignatureScheme[] = ['secp256k1', 'ml-dsa-65', 'hybrid']

function uint(v: bigint): Uint8Array {
  return v === 0n ? new Uint8Array() : word(v).subarray(32 - Math.ceil(v.toString(16).length / 2))
}

function corrupt(message: string): CairnError {
  return new CairnError(ShardErrorCode.INVALID_PARAMS, `the bridge's stored light client: ${message}`, {
    fault: 'internal',
  })
}

function uintOf(b: unknown): bigint {
  if (!(b instanceof Uint8Array)) throw corrupt('not a byte string')
  return b.length === 0 ? 0n : BigInt(`0x${Buffer.from(b).toString('hex')}`)
}

/** A light client's state as the bridge stores it: RLP [shard, chainId, scheme, height, hash, [[address, power, pqKey]…]]. */
export function encodeClientState(s: LightClientState): Uint8Array {
  return RLP.encode([
    uint(BigInt(s.shard)),
    uint(s.chainId),
    uint(BigInt(SCHEMES.indexOf(s.scheme))),
    uint(BigInt(s.height)),
    s.hash,
    s.validators.map((v) => [v.address, uint(v.votingPower), v.pqPublicKey ?? new Uint8Array()]),
  ] as never)
}

export function decodeClientState(bytes: Uint8Array): LightClientState {
  const d = RLP.decode(bytes) as unknown as [unknown, unknown, unknown, unknown, Uint8Array, Uint8Array[][]]
  const scheme = SCHEMES[Number(uintOf(d[2]))]
  if (scheme === undefined) throw corrupt('unknown signature scheme')
  return {
    shard: Number(uintOf(d[0])),
    chainId: uintOf(d[1]),
    scheme,
    height: Number(uintOf(d[3])),
    hash: d[4],
    validators: d[5].map(([address, power, pq]) => ({
      address: address as Uint8Array,
      votingPower: uintOf(power),
      ...((pq as Uint8Array).length > 0 ? { pqPublicKey: pq as Uint8Array } : {}),
    })),
  }
}

/** A blob's words: its length at `base`, then its bytes in 32-byte words from `base + 1`. */
export function blobWords(base: Uint8Array, bytes: Uint8Array): [Uint8Array, Uint8Array][] {
  const out: [Uint8Array, Uint8Array][] = [[base, word(BigInt(bytes.length))]]
  for (let i = 0; i * 32 < bytes.length; i++) {
    const w = new Uint8Array(32)
    w.set(bytes.subarray(i * 32, i * 32 + 32))
    out.push([slotPlus(base, i + 1), w])
  }
  return out
}

/** Another shard as the bridge's genesis knows it: what its light client starts from. */
export type PeerShard = Omit<ShardLightClientOptions, 'window'>

/**
 * The genesis `alloc` entry of the bridge of shard `shard`: the account (nonce 1) with the light
 * client of each other shard at its genesis in storage (geth's `storage` of 32-byte words).
 */
export function bridgeGenesisAlloc(
  peers: readonly PeerShard[],
): Record<Hex, { balance: string; nonce: string; storage: Record<Hex, Hex> }> {
  const storage: Record<Hex, Hex> = {}
  for (const peer of peers) {
    for (const [k, v] of blobWords(clientSlot(peer.shard), encodeClientState(genesisClientState(peer)))) {
      storage[bytesToHex(k)] = bytesToHex(v)
    }
  }
  return { [BRIDGE_ADDRESS]: { balance: '0x0', nonce: '0x1', storage } }
}
