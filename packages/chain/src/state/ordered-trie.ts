import { keccak256 } from '@cairn/crypto'
import { RLP } from '@ethereumjs/rlp'
import { KECCAK256_RLP } from '@ethereumjs/util'
import { RlpArena } from './rlp-arena.ts'
import { compareBytes, encodePath, toNibbles } from './trie-path.ts'

/** A node as RLP structure: a leaf/extension [path, value|child] or a branch of 17 items. */
type RawNode = Uint8Array | RawNode[]

const EMPTY = new Uint8Array()
/** The nodes' encodings, each hashed at once and dropped: one chunk reused (see RlpArena). */
const scratch = new RlpArena({ scratch: true })

/**
 * The root of the Merkle-Patricia trie holding `values[i]` under the key `RLP(i)`: the transactions
 * and receipts roots of a block. Same result as inserting them one by one into an
 * `@ethereumjs/mpt` trie (`genTransactionsTrieRoot`, the BlockBuilder's receipt trie), built in one
 * pass over the sorted keys instead: no node is decoded, stored or hashed twice.
 */
export function orderedTrieRoot(values: readonly Uint8Array[]): Uint8Array {
  if (values.length === 0) return KECCAK256_RLP
  const items = values.map((value, i) => ({ key: toNibbles(RLP.encode(i)), value }))
  items.sort((a, b) => compareBytes(a.key, b.key))
  return keccak256(scratch.encode(node(items, 0, items.length, 0)))
}

/** The node holding `items[from..to)` (sorted, distinct keys), whose keys agree up to `depth`. */
function node(items: { key: Uint8Array; value: Uint8Array }[], from: number, to: number, depth: number): RawNode {
  const first = items[from] as { key: Uint8Array; value: Uint8Array }
  if (to - from === 1) return [encodePath(first.key.subarray(depth), true), first.value]
  // Sorted: the prefix all share is the one the first and last share.
  const last = (items[to - 1] as { key: Uint8Array }).key
  let shared = depth
  while (shared < first.key.length && shared < last.length && first.key[shared] === last[shared]) shared++
  if (shared > depth) {
    return [encodePath(first.key.subarray(depth, shared), false), ref(node(items, from, to, shared))]
  }
  const branch: RawNode[] = new Array(17).fill(EMPTY)
  let i = from
  if (first.key.length === depth) {
    branch[16] = first.value
    i++
  }
  while (i < to) {
    const nibble = (items[i] as { key: Uint8Array }).key[depth] as number
    let j = i + 1
    while (j < to && (items[j] as { key: Uint8Array }).key[depth] === nibble) j++
    branch[nibble] = ref(node(items, i, j, depth + 1))
    i = j
  }
  return branch
}

/** How a parent refers to a child: inline when its encoding is under 32 bytes, else by hash. */
function ref(child: RawNode): RawNode {
  const encoded = scratch.encode(child)
  return encoded.length < 32 ? child : keccak256(encoded)
}
