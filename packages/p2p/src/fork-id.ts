import { crc32 } from 'node:zlib'

/**
 * An EIP-2124 fork identifier: the CRC32 of the genesis hash and every fork activation already
 * passed, and the next scheduled activation (0: none). Two nodes with the same genesis and rules
 * agree on it; a node with another genesis or a different schedule does not.
 */
export interface ForkId {
  hash: Uint8Array
  next: bigint
}

/** What the fork id is computed from: block-number forks, then timestamp forks (as EIP-6122). */
export interface ForkPoints {
  genesisHash: Uint8Array
  genesisTimestamp: bigint
  blocks: bigint[]
  timestamps: bigint[]
}

/** Below this, a fork point is a block number; above, a timestamp (geth's `timestampThreshold`). */
const TIMESTAMP_THRESHOLD = 1_438_269_973n

function uint64be(n: bigint): Uint8Array {
  const out = new Uint8Array(8)
  new DataView(out.buffer).setBigUint64(0, n)
  return out
}

function u32(n: number): Uint8Array {
  const out = new Uint8Array(4)
  new DataView(out.buffer).setUint32(0, n >>> 0)
  return out
}

/** Fork activations in order, without duplicates, genesis-time ones and unscheduled ones. */
function activations(points: ForkPoints): { kind: 'block' | 'time'; at: bigint }[] {
  const blocks = [...new Set(points.blocks.filter((b) => b > 0n))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
  const times = [...new Set(points.timestamps.filter((t) => t > points.genesisTimestamp))].sort((a, b) =>
    a < b ? -1 : a > b ? 1 : 0,
  )
  return [
    ...blocks.map((at) => ({ kind: 'block' as const, at })),
    ...times.map((at) => ({ kind: 'time' as const, at })),
  ]
}

/** The checksums after genesis and after each activation (`sums[i]` has `i` activations folded in). */
function checksums(points: ForkPoints): { sums: number[]; forks: { kind: 'block' | 'time'; at: bigint }[] } {
  const forks = activations(points)
  let sum = crc32(points.genesisHash)
  const sums = [sum]
  for (const f of forks) {
    sum = crc32(uint64be(f.at), sum)
    sums.push(sum)
  }
  return { sums, forks }
}

function passed(f: { kind: 'block' | 'time'; at: bigint }, head: { number: bigint; timestamp: bigint }): boolean {
  return f.kind === 'block' ? head.number >= f.at : head.timestamp >= f.at
}

/** The fork id of a node whose head is `head`. */
export function forkId(points: ForkPoints, head: { number: bigint; timestamp: bigint }): ForkId {
  const { sums, forks } = checksums(points)
  let i = 0
  while (i < forks.length && passed(forks[i] as (typeof forks)[number], head)) i++
  return { hash: u32(sums[i] as number), next: forks[i]?.at ?? 0n }
}

/** Why a remote fork id is incompatible, or undefined when it is compatible (EIP-2124's rules). */
export function checkForkId(
  points: ForkPoints,
  head: { number: bigint; timestamp: bigint },
  remote: ForkId,
): string | undefined {
  const { sums, forks } = checksums(points)
  const remoteSum =
    remote.hash.length === 4 ? new DataView(remote.hash.buffer, remote.hash.byteOffset).getUint32(0) : -1
  let i = 0
  while (i < forks.length && passed(forks[i] as (typeof forks)[number], head)) i++
  // Rule 1: the same fork state. Incompatible only if the remote announces a fork we already passed
  // without having it (it is stale and will fork off).
  if (remoteSum === sums[i]) {
    if (remote.next === 0n) return undefined
    // geth's heuristic: a value below the mainnet genesis timestamp is a block number.
    const localPassed = remote.next < TIMESTAMP_THRESHOLD ? head.number >= remote.next : head.timestamp >= remote.next
    return localPassed ? `remote announces a fork at ${remote.next} that this node passed without it` : undefined
  }
  // Rule 2: the remote is behind (a subset of our past forks) and its next fork is the one we ran next.
  for (let j = 0; j < i; j++) {
    if (sums[j] === remoteSum) {
      return forks[j]?.at === remote.next ? undefined : 'remote is behind on a different fork schedule'
    }
  }
  // Rule 3: the remote is ahead (a superset): we are syncing.
  for (let j = i + 1; j < sums.length; j++) if (sums[j] === remoteSum) return undefined
  return `fork id ${remoteSum.toString(16).padStart(8, '0')} unknown (local ${(sums[i] as number).toString(16).padStart(8, '0')})`
}
