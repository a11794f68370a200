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
  const walk = new TrieWalk(get, visited, stats)
  if (!equalsBytes(root, KECCAK256_RLP)) await walk.hash(root, 'account', '')
  return { problems: walk.problems, stats }
}

type TrieKind = 'account' | 'storage'

/** One walk: the store, what is verified already, the counts and the problems found. */
class TrieWalk {
  readonly problems: StateProblem[] = []

  constructor(
    private readonly get: RawGet,
    private readonly visited: Set<string>,
    private readonly stats: StateWalkStats,
  ) {}

  private problem(kind: StateProblem['kind'], message: string): void {
    this.problems.push({ kind, message })
  }

  /** A node named by its hash: read, re-hashed, decoded, then walked. */
  async hash(hash: Uint8Array, kind: TrieKind, where: string): Promise<void> {
    const id = bytesToHex(hash)
    if (this.visited.has(id)) return
    const raw = await this.get(bucketKey(Bucket.state, hash))
    if (raw === undefined) return this.problem('state-node-missing', `${kind} trie node ${id} is missing${where}`)
    if (!equalsBytes(keccak256(raw), hash)) {
      return this.problem('state-node-corrupt', `${kind} trie node ${id} does not hash to its key${where}`)
    }
    this.visited.add(id)
    this.stats.nodes++
    let node: unknown
    try {
      node = RLP.decode(raw)
    } catch {
      return this.problem('state-node-corrupt', `${kind} trie node ${id} is not RLP${where}`)
    }
    await this.node(node, kind, where)
  }

  /** A child reference: an embedded node (< 32 bytes), a hash, or empty. */
  private async ref(ref: unknown, kind: TrieKind, where: string): Promise<void> {
    if (Array.isArray(ref)) return this.node(ref, kind, where)
    if (ref instanceof Uint8Array && ref.length === 32) return this.hash(ref, kind, where)
    if (ref instanceof Uint8Array && ref.length === 0) return
    this.problem('state-node-corrupt', `${kind} trie has a malformed child reference${where}`)
  }

  private async node(node: unknown, kind: TrieKind, where: string): Promise<void> {
    if (!Array.isArray(node)) return this.problem('state-node-corrupt', `${kind} trie node is not a list${where}`)
    if (node.length === 17) {
      for (let i = 0; i < 16; i++) await this.ref(node[i], kind, where)
      return
    }
    if (node.length !== 2 || !(node[0] instanceof Uint8Array) || node[0].length === 0) {
      return this.problem('state-node-corrupt', `${kind} trie node has ${node.length} items${where}`)
    }
    const isLeaf = ((node[0][0] as number) >> 4) & 2
    if (!isLeaf) return this.ref(node[1], kind, where)
    if (kind === 'storage') {
      this.stats.storageSlots++
      return
    }
    this.stats.accounts++
    await this.account(node[1])
  }

  /** An account leaf: its storage trie and its code. */
  private async account(value: unknown): Promise<void> {
    let fields: unknown
    try {
      fields = value instanceof Uint8Array ? RLP.decode(value) : undefined
    } catch {
      fields = undefined
    }
    if (!Array.isArray(fields) || fields.length !== 4) {
      return this.problem(
        'state-node-corrupt',
        'an account leaf does not decode as [nonce, balance, storageRoot, codeHash]',
      )
    }
    const [, , storageRoot, codeHash] = fields as Uint8Array[]
    const where = ` (storage of an account with code hash ${bytesToHex(codeHash as Uint8Array)})`
    if (storageRoot && !equalsBytes(storageRoot, KECCAK256_RLP)) await this.hash(storageRoot, 'storage', where)
    if (codeHash && !equalsBytes(codeHash, KECCAK256_NULL)) await this.code(codeHash)
  }

  private async code(codeHash: Uint8Array): Promise<void> {
    const id = `code:${bytesToHex(codeHash)}`
    if (this.visited.has(id)) return
    const key = new Uint8Array(34)
    key[0] = Bucket.state
    key.set(CODE_PREFIX, 1)
    key.set(codeHash, 2)
    const code = await this.get(key)
    if (code === undefined) return this.problem('code-missing', `contract code ${bytesToHex(codeHash)} is missing`)
    if (!equalsBytes(keccak256(code), codeHash)) {
      return this.problem('code-corrupt', `contract code ${bytesToHex(codeHash)} does not hash to its key`)
    }
    this.visited.add(id)
    this.stats.codes++
  }
}
