// Blocks received from elsewhere (a peer, a chain file), built by a reference — @ethereumjs's own
// runBlock, which applies withdrawals, runs blob transactions without their blobs and makes the
// request system calls without judging them — and imported through Cairn's importer: withdrawals
// are credited (issue 14 item 2), blob transactions are accepted without blobs and judged by their
// blob gas (item 3), failing EIP-7002/7251 system calls make the block invalid (item 4).
import { MemoryKV } from '@cairn/db'
import { type Hex, silentLogger } from '@cairn/utils'
import { type Block, createBlock, createBlockFromRLP, genWithdrawalsTrieRoot } from '@ethereumjs/block'
import { createBlob4844Tx, type TypedTransaction } from '@ethereumjs/tx'
import { createAddressFromString, type WithdrawalData } from '@ethereumjs/util'
import { createVM, runBlock } from '@ethereumjs/vm'
import { describe, expect, it } from 'vitest'
import { chainParts } from '../../src/chain-parts.ts'
import { Executor } from '../../src/execution/executor.ts'
import {
  CONSOLIDATION_REQUEST_ADDRESS,
  toleratedMissingContracts,
  WITHDRAWAL_REQUEST_ADDRESS,
} from '../../src/execution/system-calls.ts'
import { TxChecks } from '../../src/execution/tx-checks.ts'
import { type Chain, ChainErrorCode, devGenesis, encodedTx } from '../../src/index.ts'
import { ownCopy } from '../../src/rules/common.ts'
import { orderedTrieRoot } from '../../src/state/ordered-trie.ts'
import { ADDRS, balanceAt, cairnError, importBlock, KEYS, openChain, testEngine, transfer } from '../helpers.ts'

const GWEI = 10n ** 9n

/**
 * The block @ethereumjs's runBlock makes on `parent` of `ref` (a chain with the same genesis as
 * the importer's) from `txs` and `withdrawals`; `ref`'s state is left untouched.
 */
async function referenceBlock(
  ref: Chain,
  parent: Block,
  txs: TypedTransaction[],
  withdrawals: WithdrawalData[] = [],
  blobGasUsed = 0n,
): Promise<Block> {
  const common = ref.common
  const { newStateManager } = await import('../../src/state/state-manager.ts')
  const vm = await createVM({
    common: ownCopy(common),
    stateManager: newStateManager(common, chainParts(ref).stateDB, parent.header.stateRoot),
  })
  const header = {
    parentHash: parent.hash(),
    number: parent.header.number + 1n,
    timestamp: parent.header.timestamp + 12n,
    gasLimit: parent.header.gasLimit,
    baseFeePerGas: parent.header.calcNextBaseFee(),
    excessBlobGas: parent.header.calcNextExcessBlobGas(common),
    blobGasUsed,
    parentBeaconBlockRoot: new Uint8Array(32),
    transactionsTrie: orderedTrieRoot(txs.map(encodedTx)),
  }
  const draft = createBlock({ header, transactions: txs, withdrawals }, { common })
  const res = await runBlock(vm, {
    block: draft,
    generate: true,
    skipBlockValidation: true,
    skipHeaderValidation: true,
  })
  chainParts(ref).stateDB.discard()
  const block = createBlock(
    {
      header: {
        ...header,
        stateRoot: res.stateRoot,
        receiptTrie: res.receiptsRoot,
        logsBloom: res.logsBloom,
        gasUsed: res.gasUsed,
        withdrawalsRoot: await genWithdrawalsTrieRoot(draft.withdrawals ?? []),
        ...(res.requestsHash ? { requestsHash: res.requestsHash } : {}),
      },
      transactions: txs,
      withdrawals,
    },
    { common },
  )
  // As it arrives: from its RLP.
  return createBlockFromRLP(block.serialize(), { common })
}

describe('withdrawals in a received block (EIP-4895)', () => {
  const X = '0x00000000000000000000000000000000000a11ce' as Hex
  const Y = '0x00000000000000000000000000000000000b0b00' as Hex
  const withdrawals: WithdrawalData[] = [
    { index: 0n, validatorIndex: 7n, address: X, amount: 1n },
    { index: 1n, validatorIndex: 8n, address: Y, amount: 32n * GWEI },
    { index: 2n, validatorIndex: 7n, address: X, amount: 5n },
  ]

  it('are credited in order, in gwei, and the block imports with the reference state root', async () => {
    const ref = await openChain()
    const chain = await openChain()
    const tx = transfer(chain.common, KEYS[0] as Uint8Array, 0n, X, 3n)
    const block = await referenceBlock(ref, ref.head, [tx], withdrawals)
    const { status } = await importBlock(chain, block)
    expect(status).toBe('head')
    const root = chain.head.header.stateRoot
    expect(await balanceAt(chain, root, X)).toBe(3n + 6n * GWEI)
    expect(await balanceAt(chain, root, Y)).toBe(32n * GWEI * GWEI)
    const stored = await chain.getBlock(block.hash())
    expect(stored?.withdrawals?.map((w) => w.index)).toEqual([0n, 1n, 2n])
  })

  it('are refused when they do not match the header withdrawals root', async () => {
    const ref = await openChain()
    const chain = await openChain()
    const block = await referenceBlock(ref, ref.head, [], withdrawals)
    const forged = createBlock(
      {
        header: block.header.toJSON(),
        withdrawals: withdrawals.map((w, i) => (i === 1 ? { ...w, amount: 33n * GWEI } : w)),
      },
      { common: chain.common },
    )
    const err = await cairnError(importBlock(chain, forged))
    expect(err.code).toBe(ChainErrorCode.BLOCK_INVALID)
    expect(err.message).toContain('invalid withdrawals trie')
    expect(chain.head.header.number).toBe(0n)
  })
})

describe('blob transactions in a received block (EIP-4844)', () => {
  const versionedHash = (i: number) => Uint8Array.from([1, ...new Array(30).fill(0), i])
  const blobTx = (chain: Chain, blobs: number) =>
    createBlob4844Tx(
      {
        nonce: 0n,
        to: ADDRS[1],
        value: 1n,
        gasLimit: 21_000n,
        maxFeePerGas: 10n ** 10n,
        maxPriorityFeePerGas: 10n ** 9n,
        maxFeePerBlobGas: 10n ** 9n,
        blobVersionedHashes: Array.from({ length: blobs }, (_, i) => versionedHash(i)),
      },
      { common: chain.common },
    ).sign(KEYS[0] as Uint8Array)

  it('run without their blobs (a block never carries them) and import', async () => {
    const ref = await openChain()
    const chain = await openChain()
    const tx = blobTx(chain, 2)
    expect(tx.blobs).toBeUndefined()
    const block = await referenceBlock(ref, ref.head, [tx], [], 2n * 131_072n)
    expect((await importBlock(chain, block)).status).toBe('head')
    const receipts = await chain.getReceipts(block.hash())
    expect(receipts?.map((r) => [r.type, r.status])).toEqual([[3, 1]])
    expect(chain.head.header.blobGasUsed).toBe(2n * 131_072n)
  })

  it('are refused when the header blob gas used does not match their blobs', async () => {
    const ref = await openChain()
    const chain = await openChain()
    const block = await referenceBlock(ref, ref.head, [blobTx(chain, 2)], [], 131_072n)
    const err = await cairnError(importBlock(chain, block))
    expect(err.code).toBe(ChainErrorCode.BLOCK_INVALID)
    expect(err.message).toContain('invalid blobGasUsed expected=131072 actual=262144')
  })
})

describe('EIP-7002/7251 system calls', () => {
  /** The dev genesis with the contract at `address` replaced by `code`. */
  const withCode = (address: Hex, code: Hex) => {
    const g = devGenesis({ accounts: ADDRS }) as { alloc: Record<string, Record<string, string>> }
    g.alloc[address] = { balance: '0x0', nonce: '0x1', code }
    return g
  }
  const failing: [string, Hex, Hex, RegExp][] = [
    [
      'a reverting withdrawal-request contract',
      WITHDRAWAL_REQUEST_ADDRESS,
      '0x5f5ffd',
      /EIP-7002 system call .* failed: revert/,
    ],
    [
      'an aborting consolidation-request contract',
      CONSOLIDATION_REQUEST_ADDRESS,
      '0xfe',
      /EIP-7251 system call .* failed: invalid opcode/,
    ],
  ]

  it.each(failing)('%s makes a received block invalid, and cannot be built on', async (_, address, code, why) => {
    const genesis = withCode(address, code)
    const ref = await openChain(new MemoryKV(), genesis)
    const chain = await openChain(new MemoryKV(), genesis)
    const block = await referenceBlock(ref, ref.head, [])
    const err = await cairnError(importBlock(chain, block))
    expect(err.code).toBe(ChainErrorCode.BLOCK_INVALID)
    expect(err.message).toMatch(why)
    expect(chain.head.header.number).toBe(0n)
    const built = await cairnError(
      chain.build(chain.head, { timestamp: 12n }, { peek: () => undefined, shift() {}, pop() {} }),
    )
    expect(built.message).toMatch(why)
  })

  it('a missing contract makes a block invalid, unless the genesis ran Prague without it', async () => {
    const g = devGenesis({ accounts: ADDRS }) as { alloc: Record<string, unknown> }
    delete g.alloc[WITHDRAWAL_REQUEST_ADDRESS]
    const ref = await openChain(new MemoryKV(), g)
    const chain = await openChain(new MemoryKV(), g)
    const block = await referenceBlock(ref, ref.head, [])
    // Strict: what any chain gets for a contract its genesis had or its schedule deployed.
    const strict = await Executor.create(
      { commons: chain.commons },
      {
        store: chainParts(chain).store,
        stateDB: chainParts(chain).stateDB,
        genesis: chain.genesisBlock.header,
        engine: testEngine,
        logger: silentLogger,
      },
    )
    const err = await cairnError(strict.execute(block, chain.head, new TxChecks(block)))
    expect(err.message).toContain(`EIP-7002 system contract ${WITHDRAWAL_REQUEST_ADDRESS} has no code`)
    // This chain's genesis runs Prague without it: tolerated (the call is skipped, as before).
    expect((await importBlock(chain, block)).status).toBe('head')
    expect(toleratedMissingContracts(chain.genesis.alloc, {})).toEqual(new Set([WITHDRAWAL_REQUEST_ADDRESS]))
    expect(toleratedMissingContracts(chain.genesis.alloc, { pragueTime: 15_000 })).toEqual(new Set())
  })
})

describe('the dev genesis', () => {
  it('deploys the four system contracts, so its blocks make every system call', async () => {
    const chain = await openChain()
    const state = chain.stateAt(chain.genesisBlock.header.stateRoot)
    for (const a of [
      '0x000f3df6d732807ef1319fb7b8bb8522d0beac02',
      '0x0000f90827f1c53a10cb7a02335b175320002935',
      WITHDRAWAL_REQUEST_ADDRESS,
      CONSOLIDATION_REQUEST_ADDRESS,
    ]) {
      const address = createAddressFromString(a)
      expect((await state.getAccount(address))?.nonce).toBe(1n)
      expect((await state.getCode(address)).length).toBeGreaterThan(0)
    }
    const replica = await openChain()
    for (let i = 1n; i <= 2n; i++) {
      const built = await chain.build(
        chain.head,
        { timestamp: 12n * i },
        { peek: () => undefined, shift() {}, pop() {} },
      )
      await chain.committer.commit(built)
      const fresh = createBlockFromRLP(built.block.serialize(), { common: replica.common })
      expect((await importBlock(replica, fresh)).status).toBe('head')
    }
    expect(replica.head.hash()).toEqual(chain.head.hash())
    // EIP-2935 stored block 1's parent hash (the genesis) at slot 0.
    const history = createAddressFromString('0x0000f90827f1c53a10cb7a02335b175320002935')
    const slot0 = await chain.stateAt(chain.head.header.stateRoot).getStorage(history, new Uint8Array(32))
    expect(slot0).toEqual(chain.genesisBlock.hash())
  })
})
