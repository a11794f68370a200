/**
 * Where a DAG block's parents live in an Ethereum header. `parentHash` is the selected parent, so
 * every Ethereum tool walks the virtual chain as a chain. The other parents go in `extraData`, as a
 * version byte and the RLP list of their 32-byte hashes in ascending order:
 *
 *     extraData = 0xda ‖ RLP([extraParent₁, …, extraParentₙ])    (no extra parent: empty)
 *
 * The header hash therefore commits to every parent, and a header alone is enough to run GhostDAG
 * (no sidecar to fetch or lose). `extraData` stays opaque bytes to Ethereum decoders (RLP, JSON-RPC,
 * viem, ethers). Ethereum's 32-byte cap on it is a proof-of-work *mainnet* rule: Cairn decodes
 * headers without it (`skipConsensusFormatValidation`), and the GhostDAG engine's header rule
 * replaces it with this format and `maxParents`.
 */

import { CairnError } from '@cairn/utils'
import { RLP } from '@ethereumjs/rlp'
import { GhostdagErrorCode } from './errors.ts'
import { type BlockHash, hashFromBytes } from './hash.ts'
import type { GhostdagManager } from './protocol.ts'

/** The version byte of the extra-parents format. */
export const DAG_EXTRA_DATA_VERSION = 0xda

function bad(message: string): CairnError {
  return new CairnError(GhostdagErrorCode.INVALID_HEADER, message, { fault: 'caller' })
}

function hashBytes(hash: BlockHash): Uint8Array {
  if (!/^0x[0-9a-f]{64}$/.test(hash)) throw bad(`parent ${hash} is not a 32-byte lowercase hex hash`)
  const out = new Uint8Array(32)
  for (let i = 0; i < 32; i++) out[i] = Number.parseInt(hash.slice(2 + 2 * i, 4 + 2 * i), 16)
  return out
}

/** `extraData` for a block whose parents other than the selected one are `extraParents` (any order). */
export function encodeDagExtraData(extraParents: readonly BlockHash[]): Uint8Array {
  if (extraParents.length === 0) return new Uint8Array()
  const sorted = [...extraParents].sort()
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i] === sorted[i - 1]) throw bad(`parent ${sorted[i]} named twice`)
  }
  const rlp = RLP.encode(sorted.map(hashBytes))
  const out = new Uint8Array(1 + rlp.length)
  out[0] = DAG_EXTRA_DATA_VERSION
  out.set(rlp, 1)
  return out
}

/**
 * The extra parents `extraData` names, refusing anything but the one encoding `encodeDagExtraData`
 * gives (version, canonical RLP, 32-byte items, strictly ascending): a header has one byte form.
 * @throws CairnError `CONSENSUS_GHOSTDAG_INVALID_HEADER`
 */
export function decodeDagExtraData(extraData: Uint8Array): BlockHash[] {
  if (extraData.length === 0) return []
  if (extraData[0] !== DAG_EXTRA_DATA_VERSION) {
    throw bad(`extra data starts with 0x${extraData[0]!.toString(16).padStart(2, '0')}, not the DAG version 0xda`)
  }
  let items: unknown
  try {
    items = RLP.decode(extraData.subarray(1))
  } catch (err) {
    throw bad(`extra data is not an RLP list of parents: ${(err as Error).message}`)
  }
  if (!Array.isArray(items) || items.length === 0) throw bad('extra data holds no list of parents')
  const parents = items.map((item, i) => {
    if (!(item instanceof Uint8Array) || item.length !== 32) throw bad(`extra parent ${i} is not 32 bytes`)
    return hashFromBytes(item)
  })
  for (let i = 1; i < parents.length; i++) {
    if (parents[i]! <= parents[i - 1]!) throw bad('extra parents are not in strictly ascending order')
  }
  return parents
}

/**
 * A header's parents: `parentHash` (the selected parent) first, then those of `extraData`.
 * Refuses a header naming its `parentHash` again among the extra parents, or more than `maxParents`.
 */
export function dagParentsOfHeader(
  header: { parentHash: Uint8Array; extraData: Uint8Array },
  maxParents: number,
): BlockHash[] {
  const selected = hashFromBytes(header.parentHash)
  const extra = decodeDagExtraData(header.extraData)
  if (extra.includes(selected)) throw bad(`parent ${selected} is both parentHash and an extra parent`)
  if (1 + extra.length > maxParents) throw bad(`${1 + extra.length} parents, more than the ${maxParents} allowed`)
  return [selected, ...extra]
}

/**
 * Refuses parents whose selected parent (highest blue work, ties by hash) is not the header's
 * `parentHash` (`parents[0]`, as `dagParentsOfHeader` gives them): the chain Ethereum tools walk
 * must be the selected chain.
 */
export function checkSelectedParent(
  ghostdag: Pick<GhostdagManager, 'findSelectedParent'>,
  parents: readonly BlockHash[],
): void {
  const selected = ghostdag.findSelectedParent(parents)
  if (selected !== parents[0]) {
    throw bad(`parentHash ${parents[0]} is not the selected parent of the block's parents, ${selected} is`)
  }
}
