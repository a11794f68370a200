import { CairnError } from '@cairn/utils'
import { BlockDag } from './dag.ts'
import { GhostdagErrorCode } from './errors.ts'
import { type BlockHash, hashFromTestId } from './hash.ts'
import { MemoryReachabilityStore } from './reachability/store.ts'
import { MemoryDagStore } from './store.ts'

/**
 * Kaspa's test-DAG format (rusty-kaspa `testing/integration/testdata/dags/*.json`):
 * `{"K": 4, "GenesisID": "A", "Blocks": [{"ID": "B", "Parents": ["A"]}, …]}`, blocks in a
 * topological order. The `Expected…` fields are Kaspa's results; this parser ignores them.
 */
export interface TestDag {
  k: number
  genesisId: string
  blocks: { id: string; parents: string[] }[]
}

/** One block's GhostDAG result with ids in place of hashes (what `cairn dag ghostdag` prints). */
export interface TestDagBlockResult {
  id: string
  blueScore: number
  selectedParent: string
  mergesetBlues: string[]
  mergesetReds: string[]
}

/** Every block has the same work in Kaspa's test DAGs (their headers share one target). */
export const TEST_DAG_BLOCK_WORK = 1n

const MAX_K = 0xffff
const ID = /^[\x21-\x7e]{1,32}$/

function bad(message: string, hint?: string): CairnError {
  return new CairnError(GhostdagErrorCode.INVALID_DAG, message, { fault: 'caller', hint })
}

/** An untrusted value, bounded for an error message. */
function show(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v)
  return s.length > 40 ? `${s.slice(0, 40)}…` : s
}

/** Checks a K from the file or a flag: a whole number in [0, 65535] (Kaspa's `KType` is a u16). */
export function checkK(k: unknown, where: string): number {
  if (typeof k !== 'number' || !Number.isInteger(k) || k < 0 || k > MAX_K) {
    throw bad(`${where}: K must be an integer in [0, ${MAX_K}], got ${show(k)}`)
  }
  return k
}

function checkId(id: unknown, where: string): string {
  if (typeof id !== 'string' || !ID.test(id)) {
    throw bad(`${where}: id ${show(id)} is not 1 to 32 printable ASCII characters without spaces`)
  }
  return id
}

/** Parses and checks the shape of a test DAG (ids, parents, K); the order is checked when it runs. */
export function parseTestDag(json: unknown, opts: { k?: number } = {}): TestDag {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw bad('the DAG must be a JSON object')
  const o = json as Record<string, unknown>
  const k = opts.k !== undefined ? checkK(opts.k, '--k') : checkK(o.K, 'K')
  const genesisId = checkId(o.GenesisID, 'GenesisID')
  if (!Array.isArray(o.Blocks)) throw bad('Blocks must be an array of {"ID", "Parents"}')
  const blocks = o.Blocks.map((b: unknown, i) => {
    if (typeof b !== 'object' || b === null) throw bad(`Blocks[${i}] is not an object`)
    const r = b as Record<string, unknown>
    const id = checkId(r.ID, `Blocks[${i}]`)
    if (!Array.isArray(r.Parents) || r.Parents.length === 0) {
      throw bad(`block ${id}: Parents must be a non-empty array of block ids`)
    }
    return { id, parents: r.Parents.map((p: unknown) => checkId(p, `block ${id}'s parent`)) }
  })
  return { k, genesisId, blocks }
}

/**
 * Runs GhostDAG over a test DAG with the engine's own code (`BlockDag`, in-memory stores), each
 * block's hash its id's ASCII bytes zero-padded to 32, every block of equal work.
 */
export function runTestDag(dag: TestDag): TestDagBlockResult[] {
  const ids = new Map<BlockHash, string>()
  const hashes = new Map<string, BlockHash>()
  const define = (id: string) => {
    const h = hashFromTestId(id)
    ids.set(h, id)
    hashes.set(id, h)
    return h
  }
  const allIds = new Set(dag.blocks.map((b) => b.id))
  const genesis = define(dag.genesisId)
  const store = new MemoryDagStore()
  const bd = new BlockDag(
    { k: dag.k, genesis, genesisWork: TEST_DAG_BLOCK_WORK },
    { store, reachability: new MemoryReachabilityStore() },
  )
  const idOf = (h: BlockHash) => ids.get(h)!
  const out: TestDagBlockResult[] = []
  for (const block of dag.blocks) {
    if (hashes.has(block.id)) {
      throw bad(`block ${block.id} appears twice`, block.id === dag.genesisId ? 'it is the genesis' : undefined)
    }
    const parents = block.parents.map((p) => {
      const h = hashes.get(p)
      if (h !== undefined) return h
      if (allIds.has(p) || p === block.id) {
        throw bad(
          `block ${block.id} comes before its parent ${p} (out of order, or a cycle)`,
          'list blocks parents first',
        )
      }
      throw bad(`block ${block.id} has an unknown parent ${p}`)
    })
    if (new Set(parents).size !== parents.length) throw bad(`block ${block.id} names a parent twice`)
    for (const [i, p] of parents.entries()) {
      for (const [j, q] of parents.entries()) {
        if (i !== j && bd.reachability.isDagAncestorOf(p, q)) {
          throw bad(
            `block ${block.id} names parent ${block.parents[i]}, which is in the past of its parent ${block.parents[j]}`,
            'a block names only tips',
          )
        }
      }
    }
    const data = bd.addBlock(define(block.id), parents, TEST_DAG_BLOCK_WORK)
    out.push({
      id: block.id,
      blueScore: data.blueScore,
      selectedParent: idOf(data.selectedParent),
      mergesetBlues: data.mergesetBlues.map(idOf),
      mergesetReds: data.mergesetReds.map(idOf),
    })
  }
  return out
}
