import { keccak256 } from '@cairn/crypto'
import { Bucket, bucketKey } from '@cairn/db'
import { bytesToHex, equalsBytes } from '@cairn/utils'
import { RLP } from '@ethereumjs/rlp'
import { KECCAK256_NULL, KECCAK256_RLP } from '@ethereumjs/util'

/** Reads one raw key of the store. */
export type RawGet = (key: Uint8Array) => Promise<Uint8Array | undefined>

/** Something wrong in the state trie. */
export interface StateProblem {
  kind: 'state-node-missing' | 'state-node-corrupt' | 'code-missing' | 'code-corrupt'
  message: string
}

/** What a walk covered. */
export interface StateWalkStats {
  nodes: number
  accounts: number
  storageSlots: number
  codes: number
}

const CODE_PREFIX = Uint8Array.of(0x63) // 'c', ethereumjs' prefix of contract code keys

/**
 * Verifies the state trie under `root` bottom-up: every node reachable from the root is read,
 * hashed with keccak-256 and compared with the hash its parent names, so a root that passes is a
 * root recomputed from the stored nodes. Accounts' storage tries and code are walked too.
 * `visited` (node hashes, hex) is shared between roots: nodes of an archive's many roots are
 * verified once.
 */
export async function walkStateTrie(
  get: RawGet,
  root: Uint8Array,
  visited: Set<string>,
  stats: StateWalkStats = { nodes: 0, accounts: 0, storageSlots: 0, codes: 0 },
): Promise<{ problems: StateProblem[]; stats: StateWalkStats }> {
  const problems: StateProblem[] = []
  if (!equalsBytes(root, KECCAK256_RLP)) await visitHash(get, root, 'account', visited, stats, problems, '')
  return { problems, stats }
}

type TrieKind = 'account' | 'storage'

async function visitHash(
  get: RawGet,
  hash: Uint8Array,
  kind: TrieKind,
  visited: Set<string>,
  stats: StateWalkStats,
  problems: StateProblem[],
  where: string,
): Promise<void> {
  const id = bytesToHex(hash)
  if (visited.has(id)) return
  const raw = await get(bucketKey(Bucket.state, hash))
  if (raw === undefined) {
    problems.push({ kind: 'state-node-missing', message: `${kind} trie node ${id} is missing${where}` })
    return
  }
  if (!equalsBytes(keccak256(raw), hash)) {
    problems.push({ kind: 'state-node-corrupt', message: `${kind} trie node ${id} does not hash to its key${where}` })
    return
  }
  visited.add(id)
  stats.nodes++
  let node: unknown
  try {
    node = RLP.decode(raw)
  } catch {
    problems.push({ kind: 'state-node-corrupt', message: `${kind} trie node ${id} is not RLP${where}` })
    return
  }
  await visitNode(get, node, kind, visited, stats, problems, where)
}

async function visitRef(
  get: RawGet,
  ref: unknown,
  kind: TrieKind,
  visited: Set<string>,
  stats: StateWalkStats,
  problems: StateProblem[],
  where: string,
): Promise<void> {
  if (Array.isArray(ref)) return visitNode(get, ref, kind, visited, stats, problems, where) // embedded (< 32 bytes)
  if (ref instanceof Uint8Array && ref.length === 32) return visitHash(get, ref, kind, visited, stats, problems, where)
  if (ref instanceof Uint8Array && ref.length === 0) return
  problems.push({ kind: 'state-node-corrupt', message: `${kind} trie has a malformed child reference${where}` })
}

async function visitNode(
  get: RawGet,
  node: unknown,
  kind: TrieKind,
  visited: Set<string>,
  stats: StateWalkStats,
  problems: StateProblem[],
  where: string,
): Promise<void> {
  if (!Array.isArray(node)) {
    problems.push({ kind: 'state-node-corrupt', message: `${kind} trie node is not a list${where}` })
    return
  }
  if (node.length === 17) {
    for (let i = 0; i < 16; i++) await visitRef(get, node[i], kind, visited, stats, problems, where)
    return
  }
  if (node.length !== 2 || !(node[0] instanceof Uint8Array) || node[0].length === 0) {
    problems.push({ kind: 'state-node-corrupt', message: `${kind} trie node has ${node.length} items${where}` })
    return
  }
  const isLeaf = ((node[0][0] as number) >> 4) & 2
  if (!isLeaf) return visitRef(get, node[1], kind, visited, stats, problems, where)
  if (kind === 'storage') {
    stats.storageSlots++
    return
  }
  stats.accounts++
  await visitAccount(get, node[1], visited, stats, problems)
}

async function visitAccount(
  get: RawGet,
  value: unknown,
  visited: Set<string>,
  stats: StateWalkStats,
  problems: StateProblem[],
): Promise<void> {
  let fields: unknown
  try {
    fields = value instanceof Uint8Array ? RLP.decode(value) : undefined
  } catch {
    fields = undefined
  }
  if (!Array.isArray(fields) || fields.length !== 4) {
    problems.push({
      kind: 'state-node-corrupt',
      message: 'an account leaf does not decode as [nonce, balance, storageRoot, codeHash]',
    })
    return
  }
  const [, , storageRoot, codeHash] = fields as Uint8Array[]
  const where = ` (storage of an account with code hash ${bytesToHex(codeHash as Uint8Array)})`
  if (storageRoot && !equalsBytes(storageRoot, KECCAK256_RLP)) {
    await visitHash(get, storageRoot, 'storage', visited, stats, problems, where)
  }
  if (codeHash && !equalsBytes(codeHash, KECCAK256_NULL)) {
    const id = `code:${bytesToHex(codeHash)}`
    if (visited.has(id)) return
    const key = new Uint8Array(34)
    key[0] = Bucket.state
    key.set(CODE_PREFIX, 1)
    key.set(codeHash, 2)
    const code = await get(key)
    if (code === undefined) {
      problems.push({ kind: 'code-missing', message: `contract code ${bytesToHex(codeHash)} is missing` })
    } else if (!equalsBytes(keccak256(code), codeHash)) {
      problems.push({ kind: 'code-corrupt', message: `contract code ${bytesToHex(codeHash)} does not hash to its key` })
    } else {
      visited.add(id)
      stats.codes++
    }
  }
}
