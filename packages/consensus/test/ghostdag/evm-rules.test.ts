// The EVM as the executor's rules (evm-rules.ts): signed EIP-1559 transactions carried by two
// parallel blocks, executed by the chain block merging them on @ethereumjs/vm, in GhostDAG order —
// a duplicate, a conflicting nonce, a gap, an overspend and one under intrinsic gas skipped, a
// reverting call applied (gas paid); the same state root however the chain got there.
import { createBlockHeader } from '@ethereumjs/block'
import { Common, Hardfork, Mainnet } from '@ethereumjs/common'
import { MerkleStateManager } from '@ethereumjs/statemanager'
import { createFeeMarket1559Tx, type TypedTransaction } from '@ethereumjs/tx'
import { Address, bytesToHex, createAccount, hexToBytes, privateToAddress } from '@ethereumjs/util'
import { describe, expect, it } from 'vitest'
import { hashFromTestId as h } from '../../src/ghostdag/hash.ts'
import {
  BlockDag,
  type BlockHash,
  DagExecutor,
  evmRules,
  GhostdagErrorCode,
  MemoryDagStore,
  MemoryReachabilityStore,
} from '../../src/ghostdag/index.ts'

const common = new Common({ chain: Mainnet, hardfork: Hardfork.London })
const ETHER = 10n ** 18n
const ALICE_KEY = hexToBytes(`0x${'11'.repeat(32)}`)
const BOB_KEY = hexToBytes(`0x${'22'.repeat(32)}`)
const alice = new Address(privateToAddress(ALICE_KEY))
const bob = new Address(privateToAddress(BOB_KEY))
const carol = new Address(hexToBytes(`0x${'cc'.repeat(20)}`))
/** A contract whose code is INVALID (0xfe): every call to it reverts, using all its gas. */
const reverter = new Address(hexToBytes(`0x${'fe'.repeat(20)}`))

function transfer(key: Uint8Array, nonce: bigint, to: Address, value: bigint, gasLimit = 21_000n): TypedTransaction {
  return createFeeMarket1559Tx(
    { nonce, to, value, gasLimit, maxFeePerGas: 10n ** 10n, maxPriorityFeePerGas: 1n, chainId: 1n },
    { common },
  ).sign(key)
}

async function genesisState(): Promise<MerkleStateManager> {
  const sm = new MerkleStateManager({ common })
  await sm.checkpoint()
  await sm.putAccount(alice, createAccount({ nonce: 0n, balance: 10n * ETHER }))
  await sm.putAccount(reverter, createAccount({ nonce: 1n, balance: 0n }))
  await sm.putCode(reverter, Uint8Array.from([0xfe]))
  await sm.commit()
  return sm
}

async function setup() {
  // G ← A, G ← B, C merging both (K = 3: all blue). Equal blue work: B, the higher hash, is C's
  // selected parent, so C executes B's transactions, then A's.
  const store = new MemoryDagStore()
  const bd = new BlockDag({ k: 3, genesis: h('G') }, { store, reachability: new MemoryReachabilityStore() })
  bd.addBlock(h('A'), [h('G')], 1n)
  bd.addBlock(h('B'), [h('G')], 1n)
  bd.addBlock(h('C'), [h('A'), h('B')], 1n)
  const pay = transfer(ALICE_KEY, 0n, bob, ETHER)
  const txs = new Map<BlockHash, TypedTransaction[]>([
    [h('B'), [pay, transfer(ALICE_KEY, 1n, reverter, 0n, 50_000n)]],
    [
      h('A'),
      [
        pay, // the same transaction again
        transfer(ALICE_KEY, 0n, carol, ETHER), // alice's nonce 0 again
        transfer(ALICE_KEY, 5n, carol, ETHER), // a gap
        transfer(BOB_KEY, 0n, carol, ETHER), // bob has 1 ether: not enough with the gas
        transfer(ALICE_KEY, 2n, carol, ETHER, 20_000n), // under the intrinsic 21,000 gas
      ],
    ],
  ])
  const headers = new Map<BlockHash, number>([
    [h('A'), 1],
    [h('B'), 1],
    [h('C'), 2],
  ])
  const genesis = await genesisState()
  const rules = evmRules({
    common,
    headerOf: (chainBlock) =>
      createBlockHeader(
        {
          number: BigInt(headers.get(chainBlock)!),
          timestamp: 1_700_000_000n + BigInt(headers.get(chainBlock)!),
          gasLimit: 30_000_000n,
          baseFeePerGas: 7n,
          coinbase: carol,
        },
        { common, skipConsensusFormatValidation: true },
      ),
  })
  const executor = () =>
    new DagExecutor(
      { genesis: h('G'), genesisState: genesis },
      { ghostdag: store, reachability: bd.reachability, transactions: (b) => txs.get(b) ?? [], rules },
    )
  return { bd, genesis, executor }
}

describe('execution in GhostDAG order on the EVM', () => {
  it('skips what the EVM would refuse, applies a reverting call, and pays only once', async () => {
    const { bd, genesis, executor } = await setup()
    const genesisRoot = bytesToHex(await genesis.getStateRoot())
    const ex = executor()
    const update = await ex.moveToAsync(bd.sink)
    expect(update.added.map((a) => a.chainBlock)).toEqual([h('B'), h('C')])
    const c = ex.acceptance(h('C'))!
    expect(c.mergeset).toEqual([h('B'), h('A')])
    expect(c.txs.map((x) => [x.block === h('A') ? 'A' : 'B', x.index, x.outcome])).toEqual([
      ['B', 0, { applied: true, gasUsed: 21_000n, reverted: false }],
      ['B', 1, { applied: true, gasUsed: 50_000n, reverted: true }],
      ['A', 0, { applied: false, reason: 'nonce-used' }],
      ['A', 1, { applied: false, reason: 'nonce-used' }],
      ['A', 2, { applied: false, reason: 'nonce-gap' }],
      ['A', 3, { applied: false, reason: 'insufficient-funds' }],
      ['A', 4, { applied: false, reason: 'invalid' }],
    ])
    const state = ex.state
    expect((await state.getAccount(bob))!.balance).toBe(ETHER)
    const a = (await state.getAccount(alice))!
    expect(a.nonce).toBe(2n)
    // Alice paid 1 ether and the gas of two transactions at base fee 7 + tip 1 (8 wei a gas).
    expect(a.balance).toBe(10n * ETHER - ETHER - (21_000n + 50_000n) * 8n)
    // The selected parent's state and the genesis's are untouched by C's execution.
    expect(bytesToHex(await ex.stateAt(h('B'))!.getStateRoot())).toBe(genesisRoot)
    expect(bytesToHex(await genesis.getStateRoot())).toBe(genesisRoot)
    // Synchronous moveTo cannot drive asynchronous rules.
    expect(() => executor().moveTo(bd.sink)).toThrow(
      expect.objectContaining({ code: GhostdagErrorCode.DATA_INCONSISTENCY }),
    )
  })

  it('gives one state root however the chain got there (rolled back and re-executed)', async () => {
    const { bd, executor } = await setup()
    const direct = executor()
    await direct.moveToAsync(bd.sink)
    const root = bytesToHex(await direct.state.getStateRoot())
    const wandering = executor()
    await wandering.moveToAsync(h('A'))
    await wandering.moveToAsync(h('B'))
    const back = await wandering.moveToAsync(h('C'))
    expect(back.removed).toEqual([])
    expect(wandering.chain).toEqual([h('G'), h('B'), h('C')])
    expect(bytesToHex(await wandering.state.getStateRoot())).toBe(root)
  })
})
