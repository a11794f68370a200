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

/** The CRC32 of the genesis hash, then of each activation (8 bytes, big-endian) in the given order: each step's sum. */
function fold(genesisHash: Uint8Array, ats: bigint[]): number[] {
  let sum = crc32(genesisHash)
  const sums = [sum]
  for (const at of ats) {
    sum = crc32(uint64be(at), sum)
    sums.push(sum)
  }
  return sums
}

/** The checksums after genesis and after each activation (`sums[i]` has `i` activations folded in). */
function checksums(points: ForkPoints): { sums: number[]; forks: { kind: 'block' | 'time'; at: bigint }[] } {
  const forks = activations(points)
  return {
    sums: fold(
      points.genesisHash,
      forks.map((f) => f.at),
    ),
    forks,
  }
}

/**
 * The fork hash as `eth_config` (EIP-7910) gives it for one fork's configuration: the fold of the
 * given activations (block numbers or timestamps) in ascending order, skipping those at genesis (0)
 * and repeated values. Node's zlib.crc32 (Node 20.15+) is the IEEE polynomial the EIP uses.
 */
export function forkHash(genesisHash: Uint8Array, activations: bigint[]): string {
  const ats = [...new Set(activations.filter((a) => a !== 0n))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
  const sum = fold(genesisHash, ats).at(-1) as number
  return `0x${sum.toString(16).padStart(8, '0')}`
}

function passed(f: { kind: 'block' | 'time'; at: bigint }, head: { number: bigint; timestamp: bigint }): boolean {
  return f.kind === 'block' ? head.number >= f.at : head.timestamp >= f.at
}

/** The fork id inputs of a chain: its genesis and the activation points of its fork schedule. */
export function forkPointsOf(chain: {
  genesisBlock: { hash(): Uint8Array }
  genesis: { timestamp: bigint; schedule: { forks: readonly { block?: bigint; timestamp?: bigint }[] } }
}): ForkPoints {
  const blocks: bigint[] = []
  const timestamps: bigint[] = []
  for (const f of chain.genesis.schedule.forks) {
    if (f.block !== undefined) blocks.push(f.block)
    if (f.timestamp !== undefined) timestamps.push(f.timestamp)
  }
  return { genesisHash: chain.genesisBlock.hash(), genesisTimestamp: chain.genesis.timestamp, blocks, timestamps }
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
