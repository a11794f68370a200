import { Bucket, bucketKey, bucketRange } from '@cairn/db'
import { bytesToHex, equalsBytes, uintToBytes } from '@cairn/utils'
import type { Block, BlockHeader } from '@ethereumjs/block'
import { createBlockHeaderFromBytesArray } from '@ethereumjs/block'
import { MerklePatriciaTrie } from '@ethereumjs/mpt'
import { RLP } from '@ethereumjs/rlp'
import { KECCAK256_RLP } from '@ethereumjs/util'
import type { StateDB } from '../state/state-db.ts'
import { type StateWalkStats, walkStateTrie } from '../state/state-walk.ts'
import { type StoredChainView, storedParts } from './open-store.ts'
import { encodeConsensusReceipt, type StoredReceipt } from './receipt.ts'
import type { ChainStore } from './store.ts'

/** One inconsistency found by {@link checkChain}. */
export interface CheckProblem {
  /** A stable name of what is wrong (`header-missing`, `state-node-missing`, `tx-index-mismatch`…). */
  kind: string
  number?: bigint
  hash?: string
  message: string
}

export interface CheckOptions {
  /** Check only the last N blocks up to the head (default: the whole chain). */
  last?: number
  /** Walk and verify the state trie of every block checked (default: the head and a sample). */
  fullState?: boolean
  /** How many blocks besides the head get their state trie walked (default 8). */
  stateSamples?: number
}

export interface CheckReport {
  head: { number: bigint; hash: string; stateRoot: string } | null
  from: bigint
  to: bigint
  blocksChecked: number
  transactionsChecked: number
  /** Block numbers whose state trie was walked and its root recomputed. */
  stateRootsWalked: bigint[]
  state: StateWalkStats
  problems: CheckProblem[]
}

/**
 * The consistency check of a chain store: for every canonical block in the range, the header,
 * body, receipts and state root are present and agree (hashes, transactions and receipts roots,
 * parent links, the number and tx-hash indexes); the state trie of the head and of sampled blocks
 * (every block with `fullState`) is walked and its root recomputed from the stored nodes; no
 * canonical entry lies above the head; over the whole chain, no tx-index entry points elsewhere.
 * Reads only: nothing is repaired.
 */
export async function checkChain(chain: StoredChainView, opts: CheckOptions = {}): Promise<CheckReport> {
  const { store, stateDB } = storedParts(chain)
  const get = (key: Uint8Array) => store.kv.get(key)
  const problems: CheckProblem[] = []
  const state: StateWalkStats = { nodes: 0, accounts: 0, storageSlots: 0, codes: 0 }
  const report: CheckReport = {
    head: null,
    from: 0n,
    to: 0n,
    blocksChecked: 0,
    transactionsChecked: 0,
    stateRootsWalked: [],
    state,
    problems,
  }

  const headHash = await store.getHeadHash('latest')
  const headHeader = headHash ? await readHeader(store, headHash) : undefined
  if (!headHash || !headHeader) {
    problems.push({
      kind: 'head-missing',
      message: headHash
        ? `the head pointer names block ${bytesToHex(headHash)}, which is not stored`
        : 'no head pointer',
    })
    return report
  }
  const headNumber = headHeader.number
  report.head = { number: headNumber, hash: bytesToHex(headHash), stateRoot: bytesToHex(headHeader.stateRoot) }
  const from = opts.last === undefined ? 0n : headNumber - BigInt(Math.max(1, opts.last)) + 1n
  report.from = from < 0n ? 0n : from
  report.to = headNumber
  const walkAt = sampleNumbers(report.from, headNumber, opts.stateSamples ?? 8)

  const headCanonical = await store.getCanonicalHash(headNumber)
  if (!headCanonical || !equalsBytes(headCanonical, headHash)) {
    problems.push({
      kind: 'head-not-canonical',
      number: headNumber,
      hash: bytesToHex(headHash),
      message: `the head ${bytesToHex(headHash)} is not the canonical block at ${headNumber}`,
    })
  }

  const visited = new Set<string>()
  const seenTx = new Map<string, { blockHash: Uint8Array; index: number }>()
  let prevHash: Uint8Array | undefined = report.from > 0n ? await store.getCanonicalHash(report.from - 1n) : undefined
  for (let n = report.from; n <= headNumber; n++) {
    report.blocksChecked++
    const found = await checkBlock(store, stateDB, n, prevHash, problems)
    prevHash = found?.hash
    if (!found) continue
    const { hash, header, block } = found
    if (block) {
      for (const [index, tx] of block.transactions.entries())
        seenTx.set(bytesToHex(tx.hash()), { blockHash: hash, index })
      report.transactionsChecked += block.transactions.length
    }
    if (stateDB.has(header.stateRoot) && (opts.fullState || walkAt.has(n))) {
      const { problems: sp } = await walkStateTrie(get, header.stateRoot, visited, state)
      report.stateRootsWalked.push(n)
      for (const p of sp)
        problems.push({ ...p, number: n, hash: bytesToHex(hash), message: `block ${n}: ${p.message}` })
    }
  }

  for await (const [key, value] of store.kv.iterate({
    gt: bucketKey(Bucket.canonical, uintToBytes(headNumber, 8)),
    lt: bucketRange(Bucket.canonical).lt,
  })) {
    const n = BigInt(bytesToHex(key.subarray(1)))
    problems.push({
      kind: 'canonical-above-head',
      number: n,
      hash: bytesToHex(value),
      message: `block ${n} is marked canonical above the head ${headNumber}`,
    })
  }

  for (const name of ['safe', 'finalized'] as const) {
    const h = await store.getHeadHash(name)
    const n = h ? await store.hashToNumber.get(h) : undefined
    const c = n === undefined ? undefined : await store.getCanonicalHash(n)
    if (!h || n === undefined || n > headNumber || !c || !equalsBytes(c, h)) {
      problems.push({
        kind: 'checkpoint',
        message: `the ${name} pointer does not name a canonical block at or below the head`,
      })
    }
  }

  if (report.from === 0n) {
    for await (const [key, value] of store.kv.iterate(bucketRange(Bucket.txIndex))) {
      const txHash = bytesToHex(key.subarray(1))
      const seen = seenTx.get(txHash)
      const blockHash = value.subarray(0, 32)
      const index = new DataView(value.buffer, value.byteOffset + 32, 4).getUint32(0)
      if (!seen || !equalsBytes(seen.blockHash, blockHash) || seen.index !== index) {
        problems.push({
          kind: 'tx-index-stale',
          hash: txHash,
          message: `tx index entry ${txHash} → block ${bytesToHex(blockHash)}#${index} matches no canonical transaction`,
        })
      }
    }
  }
  return report
}

async function readHeader(store: ChainStore, hash: Uint8Array): Promise<BlockHeader | undefined> {
  const raw = await store.headers.getRaw(hash)
  if (!raw) return undefined
  try {
    const values = RLP.decode(raw) as Uint8Array[]
    return createBlockHeaderFromBytesArray(values, {
      common: store.commons.forHeaderFields(values),
      skipConsensusFormatValidation: true,
    })
  } catch {
    return undefined
  }
}

async function checkBlock(
  store: ChainStore,
  stateDB: StateDB,
  n: bigint,
  prevHash: Uint8Array | undefined,
  problems: CheckProblem[],
): Promise<{ hash: Uint8Array; header: BlockHeader; block: Block | undefined } | undefined> {
  const at = (kind: string, message: string, hash?: Uint8Array) =>
    problems.push({ kind, number: n, ...(hash ? { hash: bytesToHex(hash) } : {}), message: `block ${n}: ${message}` })
  const hash = await store.getCanonicalHash(n)
  if (!hash) {
    at('canonical-missing', 'no canonical hash for this number')
    return undefined
  }
  const raw = await store.headers.getRaw(hash)
  if (!raw) {
    at('header-missing', `header ${bytesToHex(hash)} is missing`, hash)
    return undefined
  }
  const header = await readHeader(store, hash)
  if (!header || !equalsBytes(header.hash(), hash)) {
    at('header-corrupt', `header ${bytesToHex(hash)} does not decode or does not hash to its key`, hash)
    return undefined
  }
  if (header.number !== n) at('header-mismatch', `the canonical header says number ${header.number}`, hash)
  const indexed = await store.hashToNumber.get(hash)
  if (indexed !== n) at('number-index', `hash → number index says ${indexed ?? 'nothing'}`, hash)
  if (prevHash && !equalsBytes(header.parentHash, prevHash)) {
    at('parent-link', `parent hash ${bytesToHex(header.parentHash)} is not the canonical block ${n - 1n}`, hash)
  }
  if (!stateDB.has(header.stateRoot))
    at('state-missing', `state root ${bytesToHex(header.stateRoot)} is not stored`, hash)

  let block: Block | undefined
  if (!(await store.bodies.getRaw(hash))) {
    at('body-missing', 'body is missing', hash)
  } else {
    try {
      block = await store.getBlock(hash)
      if (block && !(await block.transactionsTrieIsValid())) {
        at('tx-root', 'the transactions do not match the header transactions root', hash)
      }
    } catch {
      at('body-corrupt', 'body does not decode', hash)
      block = undefined
    }
  }

  let receipts: StoredReceipt[] | undefined
  let receiptsOk = true
  try {
    receipts = await store.receipts.get(hash)
  } catch {
    receiptsOk = false
    at('receipts-corrupt', 'receipts do not decode', hash)
  }
  if (receiptsOk && !receipts) at('receipts-missing', 'receipts are missing', hash)
  if (receipts && block) {
    if (receipts.length !== block.transactions.length) {
      at('receipts-count', `${receipts.length} receipts for ${block.transactions.length} transactions`, hash)
    } else if (!equalsBytes(await receiptsRoot(receipts), header.receiptTrie)) {
      at('receipt-root', 'the receipts do not match the header receipts root', hash)
    }
  }
  if (block) {
    for (const [index, tx] of block.transactions.entries()) {
      const loc = await store.txIndex.get(tx.hash())
      if (!loc) at('tx-index-missing', `tx ${bytesToHex(tx.hash())} is not in the tx-hash index`, hash)
      else if (!equalsBytes(loc.blockHash, hash) || loc.index !== index) {
        at(
          'tx-index-mismatch',
          `tx-hash index puts tx ${bytesToHex(tx.hash())} at ${bytesToHex(loc.blockHash)}#${loc.index}`,
          hash,
        )
      }
    }
  }
  return { hash, header, block }
}

/** The receipts trie root of a block's receipts. */
export async function receiptsRoot(receipts: StoredReceipt[]): Promise<Uint8Array> {
  if (receipts.length === 0) return KECCAK256_RLP
  const trie = new MerklePatriciaTrie()
  for (const [i, r] of receipts.entries()) await trie.put(RLP.encode(i), encodeConsensusReceipt(r))
  return trie.root()
}

/** The head and `count` numbers spread evenly over [from, to]. */
function sampleNumbers(from: bigint, to: bigint, count: number): Set<bigint> {
  const out = new Set<bigint>([to])
  const span = to - from
  for (let i = 0; i < count && span > 0n; i++) out.add(from + (span * BigInt(i)) / BigInt(Math.max(1, count - 1)))
  return out
}
