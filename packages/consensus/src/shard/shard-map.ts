/**
 * Which shard an address lives on: jump consistent hashing (Lamping and Veach, "A Fast, Minimal
 * Memory, Consistent Hash Algorithm", 2014) of the first 8 bytes of keccak256(address).
 *
 * Why jump hashing: shards are numbered 0..n−1 and only ever added at the end (or removed from the
 * end), which is the case it is built for. Going from n to n+1 shards moves exactly the addresses
 * whose bucket becomes n — an expected 1/(n+1) of them, all to the new shard, none between old
 * shards — with no ring to store or agree on, O(ln n) time, and a uniform spread (a ring needs
 * hundreds of virtual nodes to come close). A resharding from n to n+1 therefore migrates only
 * accounts into the new shard: `docs/consensus/sharding.md` says how.
 */
import { keccak256 } from '@cairn/crypto'
import { CairnError } from '@cairn/utils'
import { ShardErrorCode } from './errors.ts'

const MASK64 = (1n << 64n) - 1n
const LCG = 2862933555777941757n
/** At most this many shards (the jump hash's bucket count is an int32). */
export const MAX_SHARDS = 1024

/**
 * The bucket of `key` (an unsigned 64-bit integer) among `buckets`: the paper's algorithm, bit for
 * bit (its 64-bit LCG in BigInt, the division in double precision as the C++ reference does).
 * `buckets` ≤ 0 gives 0, as the reference implementations do.
 */
export function jumpConsistentHash(key: bigint, buckets: number): number {
  if (!Number.isSafeInteger(buckets) || buckets <= 0) return 0
  let k = BigInt.asUintN(64, key)
  let b = -1
  let j = 0
  while (j < buckets) {
    b = j
    k = (k * LCG + 1n) & MASK64
    j = Math.floor((b + 1) * (2 ** 31 / (Number(k >> 33n) + 1)))
  }
  return b
}

/** The 64-bit key of an address: the first 8 bytes of keccak256(address), big-endian. */
export function addressKey(address: Uint8Array): bigint {
  const h = keccak256(address)
  let k = 0n
  for (let i = 0; i < 8; i++) k = (k << 8n) | BigInt(h[i] as number)
  return k
}

/**
 * The home shard of `address` in a network of `shardCount` shards.
 * @throws CairnError `CONSENSUS_SHARD_INVALID_PARAMS` for a count outside 1..{@link MAX_SHARDS} or an address that is not 20 bytes
 */
export function homeShard(address: Uint8Array, shardCount: number): number {
  if (!Number.isInteger(shardCount) || shardCount < 1 || shardCount > MAX_SHARDS) {
    throw new CairnError(ShardErrorCode.INVALID_PARAMS, `shard count ${shardCount}: must be 1..${MAX_SHARDS}`, {
      fault: 'caller',
    })
  }
  if (address.length !== 20) {
    throw new CairnError(ShardErrorCode.INVALID_PARAMS, `an address is 20 bytes, not ${address.length}`, {
      fault: 'caller',
    })
  }
  return jumpConsistentHash(addressKey(address), shardCount)
}

/**
 * Refuses a transaction whose sender lives on another shard, naming the right one (what a shard's
 * pool and `eth_sendRawTransaction` answer; the gateway routes instead).
 * @throws CairnError `CONSENSUS_SHARD_WRONG_SHARD` (fault 'caller', meta `homeShard`)
 */
export function checkHomeShard(address: Uint8Array, shardCount: number, thisShard: number): void {
  const home = homeShard(address, shardCount)
  if (home === thisShard) return
  throw new CairnError(
    ShardErrorCode.WRONG_SHARD,
    `the sender 0x${Buffer.from(address).toString('hex')} lives on shard ${home}, not shard ${thisShard}: send it to shard ${home} (or through the gateway)`,
    { fault: 'caller', meta: { homeShard: home, shard: thisShard } },
  )
}
