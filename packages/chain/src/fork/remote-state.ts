import { keccak256 } from '@cairn/crypto'
import { bytesToHex, CairnError, equalsBytes, type Hex, hexToBytes } from '@cairn/utils'
import { KECCAK256_NULL, KECCAK256_RLP } from '@ethereumjs/util'
import { ChainErrorCode } from '../errors.ts'
import type { NodeSink, RemoteTrie } from '../state/remote-trie.ts'
import { type ForkRpcClient, redact } from './rpc-client.ts'

interface ProofAnswer {
  codeHash: Hex
  storageHash: Hex
  accountProof: Hex[]
  storageProof: { key: Hex; value: Hex; proof: Hex[] }[]
}

/**
 * The remote state a fork reads lazily, at its pinned block. The local state trie starts at the
 * remote's state root and is the remote's own trie, filled in as it is needed: before an account
 * or a storage slot is read or written (the state manager's hook, `../state/remote-trie.ts`), the
 * remote's EIP-1186 proof of it (`eth_getProof` at the fork block) is fetched once and its nodes
 * stored in the local node store. A proof holds every node on the key's path, and a subtree the
 * local chain has not changed is the remote's (content-addressed, at the same place), so after
 * that every walk to that key finds its nodes, in any later state: the remote state is immutable
 * at the pinned block, so what is fetched is fetched for good (kept in the node store: on disk
 * with a datadir). State roots are real (the remote's, then as the local blocks change them), a
 * zeroed slot or a deleted account is what the trie says, and the remote is checked: a proof whose
 * root node does not hash to the state root (or to the account's storage root) is refused.
 *
 * Block hashes before the fork block (BLOCKHASH) are asked with `eth_getBlockByNumber`.
 */
export class RemoteState implements RemoteTrie {
  private readonly accounts = new Set<string>()
  private readonly slots = new Set<string>()
  private readonly inFlight = new Map<string, Promise<void>>()
  private readonly hashes = new Map<bigint, Uint8Array>()
  /** Accounts asked for (fetched, being fetched, or a slot of theirs): what local state may hold. */
  private readonly touched = new Set<string>()
  /** Keys fetched (accounts and slots), for tests and logs. */
  fetched = 0

  constructor(
    readonly opts: {
      /** The fork block: every read is at it. */
      blockNumber: bigint
      /** The state root the remote's proofs at the fork block hash to. */
      stateRoot: Uint8Array
      /**
       * The node store held nothing of this fork before this process (a new chain): then an
       * account never asked for here was never read or written locally ({@link untouched}).
       */
      fresh?: boolean
    },
    private readonly modules: { client: ForkRpcClient; sink: NodeSink },
  ) {}

  get client(): ForkRpcClient {
    return this.modules.client
  }

  private get tag(): Hex {
    return `0x${this.opts.blockNumber.toString(16)}`
  }

  /**
   * Whether the account at `address` is the remote's at the fork block in every local state: no
   * local read or write has asked for it (each goes through {@link ensureAccount} or
   * {@link ensureSlot} first), in a node store that held nothing before this process. Its fields
   * can then be read from the remote directly (eth_getBalance…, cheaper than its proof).
   */
  untouched(address: Uint8Array): boolean {
    return this.opts.fresh === true && !this.touched.has(bytesToHex(address))
  }

  /** Makes the account at `address` (20 bytes) readable and writable in the local trie. */
  ensureAccount(address: Uint8Array): Promise<void> | undefined {
    const a = bytesToHex(address)
    this.touched.add(a)
    if (this.accounts.has(a)) return undefined
    return this.once(a, () => this.fetch(a, []))
  }

  /** Makes storage slot `key` (32 bytes) of `address` readable and writable (the account too). */
  ensureSlot(address: Uint8Array, key: Uint8Array): Promise<void> | undefined {
    const a = bytesToHex(address)
    this.touched.add(a)
    const s = `${a}:${bytesToHex(key)}`
    if (this.slots.has(s)) return undefined
    return this.once(s, async () => {
      await this.fetch(a, [bytesToHex(key)])
      this.slots.add(s)
    })
  }

  /** Ensures an account and several of its slots in one proof (eth_getProof). */
  async ensure(address: Uint8Array, keys: Uint8Array[]): Promise<void> {
    const a = bytesToHex(address)
    this.touched.add(a)
    const wanted = keys.map((k) => bytesToHex(k)).filter((k) => !this.slots.has(`${a}:${k}`))
    if (wanted.length === 0) return this.ensureAccount(address)
    await this.fetch(a, wanted)
    for (const k of wanted) this.slots.add(`${a}:${k}`)
  }

  /** The hash of remote block `number` (below the fork block), for BLOCKHASH. */
  async blockHash(number: bigint): Promise<Uint8Array> {
    const known = this.hashes.get(number)
    if (known) return known
    const block = await this.client.call<{ hash: Hex } | null>('eth_getBlockByNumber', [
      `0x${number.toString(16)}`,
      false,
    ])
    if (!block) throw inconsistent(`block ${number} is not known to the remote`, this.client.url)
    const hash = hexToBytes(block.hash)
    this.hashes.set(number, hash)
    return hash
  }

  private once(key: string, run: () => Promise<void>): Promise<void> {
    const running = this.inFlight.get(key)
    if (running) return running
    const p = run().finally(() => this.inFlight.delete(key))
    this.inFlight.set(key, p)
    return p
  }

  private async fetch(address: Hex, keys: Hex[]): Promise<void> {
    const { client, sink } = this.modules
    const withCode = !this.accounts.has(address)
    // The proof and the code in one batch (one round trip); the code is fetched once per account.
    const [proof, code] = await Promise.all([
      client.call<ProofAnswer>('eth_getProof', [address, keys, this.tag]),
      withCode ? client.call<Hex>('eth_getCode', [address, this.tag]) : undefined,
    ])
    const nodes = proof.accountProof.map((n) => hexToBytes(n))
    const first = nodes[0]
    if (first !== undefined && !equalsBytes(keccak256(first), this.opts.stateRoot)) {
      throw inconsistent(`the proof of ${address} is not of the fork block's state root`, client.url)
    }
    const storageRoot = hexToBytes(proof.storageHash)
    for (const sp of proof.storageProof ?? []) {
      const sn = sp.proof.map((n) => hexToBytes(n))
      const top = sn[0]
      if (top !== undefined && !equalsBytes(storageRoot, KECCAK256_RLP) && !equalsBytes(keccak256(top), storageRoot)) {
        throw inconsistent(`the proof of slot ${sp.key} of ${address} is not of its storage root`, client.url)
      }
      nodes.push(...sn)
    }
    let codeBytes: Uint8Array | undefined
    if (code !== undefined && code !== '0x') {
      codeBytes = hexToBytes(code)
      if (!equalsBytes(keccak256(codeBytes), hexToBytes(proof.codeHash))) {
        throw inconsistent(`the code of ${address} does not hash to its code hash`, client.url)
      }
    } else if (withCode && !equalsBytes(hexToBytes(proof.codeHash), KECCAK256_NULL) && !isZero(proof.codeHash)) {
      throw inconsistent(`${address} has a code hash but the remote gave no code`, client.url)
    }
    // An empty trie's proof (reth's and Anvil's: ["0x80"]) holds the empty string, no node: a
    // trie at the empty root is never walked, and a node store holding "0x80" under the empty
    // root's hash breaks the first write there (the trie would decode it as a node).
    await sink.adopt(
      nodes.filter((n) => !isEmptyNode(n)),
      codeBytes,
    )
    this.accounts.add(address)
    this.fetched += 1 + keys.length
  }
}

/** The RLP of the empty string: an empty trie's "root node", which is no node to store. */
export function isEmptyNode(node: Uint8Array): boolean {
  return node.length === 1 && node[0] === 0x80
}

function isZero(hex: Hex): boolean {
  return /^0x0*$/.test(hex)
}

function inconsistent(message: string, url: string): CairnError {
  return new CairnError(ChainErrorCode.FORK_REMOTE, `fork remote ${redact(url)}: ${message}`, {
    fault: 'transient',
    hint: 'the remote must serve eth_getProof at the fork block (geth, reth, Nethermind, Erigon, Anvil, Cairn; an archive node for an old block)',
  })
}
