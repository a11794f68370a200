import type { HashFn } from './hash.ts'

/**
 * The domain-separated hashes of proof format v1 (docs/reserves/proof-format.md). Each preimage
 * starts with a tag byte so a user hash, a leaf, a padding leaf and an internal node can never be
 * confused for one another.
 */
export const TAG_USER = 0x00
export const TAG_LEAF = 0x01
export const TAG_PADDING = 0x02
export const TAG_NODE = 0x03

const utf8 = new TextEncoder()

/** `userHash = H(0x00 ‖ salt ‖ utf8(userId))`. */
export function userHash(h: HashFn, salt: Uint8Array, userId: string): Uint8Array {
  const id = utf8.encode(userId)
  const buf = new Uint8Array(1 + salt.length + id.length)
  buf[0] = TAG_USER
  buf.set(salt, 1)
  buf.set(id, 1 + salt.length)
  return h(buf)
}

/** Leaf `hash = H(0x01 ‖ userHash ‖ B)`. */
export function leafHash(h: HashFn, uHash: Uint8Array, balances: Uint8Array): Uint8Array {
  const buf = new Uint8Array(1 + uHash.length + balances.length)
  buf[0] = TAG_LEAF
  buf.set(uHash, 1)
  buf.set(balances, 1 + uHash.length)
  return h(buf)
}

/** Padding leaf `hash = H(0x02 ‖ 32 random bytes)`; its balances are all zero. */
export function paddingHash(h: HashFn, random: Uint8Array): Uint8Array {
  const buf = new Uint8Array(1 + random.length)
  buf[0] = TAG_PADDING
  buf.set(random, 1)
  return h(buf)
}

/** Internal node `hash = H(0x03 ‖ hashL ‖ B_L ‖ hashR ‖ B_R)`: it commits to each child's sums. */
export function nodeHash(
  h: HashFn,
  hashL: Uint8Array,
  balancesL: Uint8Array,
  hashR: Uint8Array,
  balancesR: Uint8Array,
): Uint8Array {
  const buf = new Uint8Array(1 + hashL.length + balancesL.length + hashR.length + balancesR.length)
  let o = 0
  buf[o++] = TAG_NODE
  buf.set(hashL, o)
  o += hashL.length
  buf.set(balancesL, o)
  o += balancesL.length
  buf.set(hashR, o)
  o += hashR.length
  buf.set(balancesR, o)
  return h(buf)
}
