import type { PeerId } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'

/** Peer ids kept parsed at most; past it the cache starts again (peers are few, ids stable). */
const MAX_CACHED = 1024

const parsed = new Map<string, PeerId>()

/**
 * The PeerId of a peer id string, parsed once: `peerIdFromString` of a secp256k1 peer id
 * decompresses and validates its public key (a square root on the curve in @noble/curves: ~120 µs here),
 * and the network names peers by string everywhere (a validator parsed one per transaction fetch:
 * ~90 ms of each node's main thread over the BFT bench's 10,000 transfers).
 * @throws as `peerIdFromString` for a string that is not a peer id (nothing is cached then).
 */
export function peerIdOf(id: string): PeerId {
  let peer = parsed.get(id)
  if (peer === undefined) {
    peer = peerIdFromString(id)
    if (parsed.size >= MAX_CACHED) parsed.clear()
    parsed.set(id, peer)
  }
  return peer
}
