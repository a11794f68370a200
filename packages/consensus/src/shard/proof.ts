/**
 * The Merkle proof that a bridge's storage slot holds a value under a shard's state root: an
 * EIP-1186 proof (what `eth_getProof` answers on the source shard) of the bridge's account, then of
 * the slot in its storage trie. Verified with `@ethereumjs/mpt` (the library the chain's own tries
 * use), so a relayer is not trusted for anything: a forged, truncated or re-rooted proof is refused.
 */
import { keccak256 } from '@cairn/crypto'
import { CairnError } from '@cairn/utils'
import { verifyMerkleProof } from '@ethereumjs/mpt'
import { RLP } from '@ethereumjs/rlp'
import { ShardErrorCode } from './errors.ts'

/** At most this many trie nodes in one of the two proofs (a 256-bit path has at most 64 nibbles). */
const MAX_PROOF_NODES = 64
const MAX_NODE_BYTES = 600

export interface SlotProof {
  /** The account's trie nodes from the state root down (eth_getProof `accountProof`). */
  accountProof: Uint8Array[]
  /** The slot's trie nodes from the account's storage root down (eth_getProof `storageProof[0].proof`). */
  storageProof: Uint8Array[]
}

function invalid(message: string): CairnError {
  return new CairnError(ShardErrorCode.INVALID_PROOF, `storage proof: ${message}`, { fault: 'peer' })
}

function checkShape(nodes: Uint8Array[], what: string): void {
  if (!Array.isArray(nodes) || nodes.length === 0 || nodes.length > MAX_PROOF_NODES) {
    throw invalid(`${what} has ${nodes?.length ?? 0} nodes (1..${MAX_PROOF_NODES})`)
  }
  for (const n of nodes) {
    if (!(n instanceof Uint8Array) || n.length > MAX_NODE_BYTES)
      throw invalid(`${what} has a node that is not a trie node`)
  }
}

async function provenValue(
  root: Uint8Array,
  key: Uint8Array,
  nodes: Uint8Array[],
  what: string,
): Promise<Uint8Array | null> {
  checkShape(nodes, what)
  if (Buffer.compare(keccak256(nodes[0] as Uint8Array), root) !== 0) throw invalid(`${what} does not start at the root`)
  try {
    return await verifyMerkleProof(key, nodes, { useKeyHashing: true })
  } catch {
    throw invalid(`${what} is not a path of the trie`)
  }
}

/**
 * The value (32 bytes, left-padded; zero when the slot is empty) of `slot` in `account`'s storage
 * under `stateRoot`, as the proof proves it.
 * @throws CairnError `CONSENSUS_SHARD_INVALID_PROOF` (fault 'peer') when the proof does not prove it
 */
export async function provenSlot(
  stateRoot: Uint8Array,
  account: Uint8Array,
  slot: Uint8Array,
  proof: SlotProof,
): Promise<Uint8Array> {
  const accountRlp = await provenValue(stateRoot, account, proof.accountProof, 'the account proof')
  if (accountRlp === null) throw invalid('the bridge account does not exist under this state root')
  let fields: unknown
  try {
    fields = RLP.decode(accountRlp)
  } catch {
    throw invalid('the account is not RLP')
  }
  if (!Array.isArray(fields) || fields.length !== 4 || !((fields[2] as unknown) instanceof Uint8Array)) {
    throw invalid('the account is not [nonce, balance, storageRoot, codeHash]')
  }
  const storageRoot = fields[2] as Uint8Array
  const stored = await provenValue(storageRoot, slot, proof.storageProof, 'the storage proof')
  const out = new Uint8Array(32)
  if (stored === null) return out
  let value: unknown
  try {
    value = RLP.decode(stored)
  } catch {
    throw invalid('the slot value is not RLP')
  }
  if (!(value instanceof Uint8Array) || value.length > 32) throw invalid('the slot value is not a word')
  out.set(value, 32 - value.length)
  return out
}
