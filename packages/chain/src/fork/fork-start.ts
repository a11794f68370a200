import { keccak256 } from '@cairn/crypto'
import { bytesToHex, CairnError, type Hex, hexToBytes } from '@cairn/utils'
import { type Block, createBlock, createBlockHeader, type HeaderData } from '@ethereumjs/block'
import type { Common } from '@ethereumjs/common'
import { ChainErrorCode } from '../errors.ts'
import { isEmptyNode } from './remote-state.ts'
import { ForkRpcClient, type ForkRpcModules, type ForkRpcOptions, redact } from './rpc-client.ts'

/** `cairn start --fork-url URL [--fork-block-number N] [--fork-chain-id ID]`. */
export interface ForkOptions extends ForkRpcOptions {
  /** The block to fork from; default the remote's latest. */
  blockNumber?: bigint
  /** The local chain's id; default the remote's (`eth_chainId`). */
  chainId?: bigint
}

/** What a fork starts from: the remote's block, its chain id, and the state root its proofs hash to. */
export interface ForkStart {
  client: ForkRpcClient
  url: string
  chainId: bigint
  blockNumber: bigint
  /** The remote block as `eth_getBlockByNumber` answers it (the local chain's first block). */
  block: RemoteBlock
  /**
   * The root the remote's proofs at the fork block hash to: the header's state root, or on a dev
   * remote whose head state was edited (anvil_setBalance…) the edited one.
   */
  stateRoot: Uint8Array
  /** Nodes of the first proof (the root node among them), stored before the chain opens. */
  firstNodes: Uint8Array[]
}

export type RemoteBlock = Record<string, Hex | Hex[] | unknown[] | null | undefined> & {
  number: Hex
  hash: Hex
  stateRoot: Hex
  timestamp: Hex
  gasLimit: Hex
}

/**
 * Connects to the remote and pins the fork block: its chain id, the block, and one proof (of the
 * zero address) that gives the state root the remote proves against and the root node. A remote
 * that does not answer `eth_getProof` cannot be forked (this design reads the remote's trie):
 * refused here with what to do, not at the first read.
 */
export async function connectFork(opts: ForkOptions, modules: ForkRpcModules = {}): Promise<ForkStart> {
  const client = new ForkRpcClient(opts, modules)
  const where = redact(opts.url)
  let chainId: bigint
  let blockNumber: bigint
  try {
    ;[chainId, blockNumber] = await Promise.all([
      opts.chainId ?? client.call<Hex>('eth_chainId', []).then(BigInt),
      opts.blockNumber ?? client.call<Hex>('eth_blockNumber', []).then(BigInt),
    ])
  } catch (err) {
    throw new CairnError(
      ChainErrorCode.FORK_REMOTE,
      `cannot reach the fork remote ${where}: ${(err as Error).message}`,
      {
        fault: 'caller',
        hint: 'check --fork-url (a JSON-RPC http(s) endpoint that is up)',
        cause: err,
      },
    )
  }
  const tag = `0x${blockNumber.toString(16)}`
  const block = await client.call<RemoteBlock | null>('eth_getBlockByNumber', [tag, false])
  if (!block) {
    throw new CairnError(ChainErrorCode.FORK_REMOTE, `the fork remote ${where} has no block ${blockNumber}`, {
      fault: 'caller',
      hint: 'give a --fork-block-number at or below the remote head',
    })
  }
  let proof: { accountProof: Hex[] }
  try {
    proof = await client.call('eth_getProof', ['0x0000000000000000000000000000000000000000', [], tag])
  } catch (err) {
    throw new CairnError(
      ChainErrorCode.FORK_REMOTE,
      `the fork remote ${where} does not answer eth_getProof at block ${blockNumber}: ${(err as Error).message}`,
      {
        fault: 'caller',
        hint: 'fork mode reads the remote state trie through eth_getProof: use a node that serves it at that block (geth, reth, Nethermind, Erigon, Anvil, Cairn; an archive node for an old block)',
        cause: err,
      },
    )
  }
  const firstNodes = proof.accountProof.map((n) => hexToBytes(n))
  const root = firstNodes[0]
  const stateRoot = root !== undefined ? keccak256(root) : hexToBytes(block.stateRoot)
  return {
    client,
    url: opts.url,
    chainId,
    blockNumber,
    block,
    stateRoot,
    firstNodes: firstNodes.filter((n) => !isEmptyNode(n)),
  }
}

/** Header fields of the remote block, as far as the local rules (`common`) know them. */
function headerData(block: RemoteBlock, common: Common): HeaderData {
  const f = (k: string) => block[k] as Hex | undefined
  const eip = (n: number) => common.isActivatedEIP(n)
  const data: HeaderData = {
    parentHash: f('parentHash'),
    uncleHash: f('sha3Uncles'),
    coinbase: f('miner'),
    stateRoot: f('stateRoot'),
    transactionsTrie: f('transactionsRoot'),
    receiptTrie: f('receiptsRoot'),
    logsBloom: f('logsBloom'),
    difficulty: f('difficulty') ?? '0x0',
    number: f('number'),
    gasLimit: f('gasLimit'),
    gasUsed: f('gasUsed'),
    timestamp: f('timestamp'),
    extraData: f('extraData') ?? '0x',
    mixHash: f('mixHash'),
    nonce: f('nonce'),
  }
  if (eip(1559) && f('baseFeePerGas')) data.baseFeePerGas = f('baseFeePerGas')
  if (eip(4895) && f('withdrawalsRoot')) data.withdrawalsRoot = f('withdrawalsRoot')
  if (eip(4844)) {
    data.blobGasUsed = f('blobGasUsed') ?? '0x0'
    data.excessBlobGas = f('excessBlobGas') ?? '0x0'
  }
  if (eip(4788) && f('parentBeaconBlockRoot')) data.parentBeaconBlockRoot = f('parentBeaconBlockRoot')
  if (eip(7685) && f('requestsHash')) data.requestsHash = f('requestsHash')
  return data
}

/**
 * The local chain's first block: the remote fork block's header (its hash the remote's when the
 * local rules have the same header fields), no transactions (they ran on the remote). Blocks
 * built locally are its children: numbering goes on from the fork block, as Anvil's.
 */
export function forkGenesisBlock(start: ForkStart, common: Common): { block: Block; sameHash: boolean } {
  const header = createBlockHeader(headerData(start.block, common), {
    common,
    skipConsensusFormatValidation: true,
  })
  const block = createBlock({ header, ...(common.isActivatedEIP(4895) ? { withdrawals: [] } : {}) }, { common })
  return { block, sameHash: bytesToHex(header.hash()) === start.block.hash.toLowerCase() }
}

/**
 * The genesis a fork's chain is recorded with (`Chain.open`'s `genesis`): the chain id and rules,
 * no allocation (the state is the remote's), and the fork's block and hash (a datadir forked from
 * another block is refused at the next start, as any other genesis).
 */
export function forkGenesis(start: ForkStart, hardfork?: string): Record<string, unknown> {
  return {
    config: { chainId: Number(start.chainId), ...(hardfork ? { cairn: { hardfork } } : {}) },
    alloc: {},
    gasLimit: start.block.gasLimit,
    timestamp: start.block.timestamp,
    fork: { number: start.block.number, hash: start.block.hash },
  }
}
