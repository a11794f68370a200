// A dev chain's state edits without a block (EditedStates, chain.dev.editHead and restoreHead): the
// state after the head changes while its header stays; the next block is built on it; replaying
// that block starts from it; a received block does not; rewinds forget the edits of the blocks
// they remove; the edits are read back when the chain is opened again on the same store.
import { MemoryKV } from '@cairn/db'
import type { Hex } from '@cairn/utils'
import { Address, bytesToHex, hexToBytes, privateToAddress } from '@ethereumjs/util'
import { describe, expect, it } from 'vitest'
import type { DevChainControls } from '../../src/dev/dev-chain.ts'
import { replayTransaction, type StateEdit } from '../../src/index.ts'
import { ADDRS, buildAndImport, importBlock, KEYS, openChain, transfer } from '../helpers.ts'

const X = '0x00000000000000000000000000000000000000e1' as Hex
const setBalance =
  (addr: Hex, wei: bigint): StateEdit =>
  (sm) =>
    sm.modifyAccountFields(new Address(hexToBytes(addr)), { balance: wei })

async function balanceAfter(chain: Awaited<ReturnType<typeof openChain>>, header = chain.head.header) {
  return (await chain.stateAfter(header).getAccount(new Address(hexToBytes(X))))?.balance ?? 0n
}

describe('state edits without a block', () => {
  it('change the state after the head, not its header; the next block starts from them', async () => {
    const chain = await openChain()
    await buildAndImport(chain, [])
    const head = chain.head
    const root = await chain.dev.editHead(setBalance(X, 1234n))
    expect(bytesToHex(chain.head.hash())).toBe(bytesToHex(head.hash()))
    expect(bytesToHex(chain.head.header.stateRoot)).toBe(bytesToHex(head.header.stateRoot))
    expect(bytesToHex(chain.postStateRoot(head.header))).toBe(bytesToHex(root))
    expect(await balanceAfter(chain)).toBe(1234n)
    // The parent's state is untouched.
    const parent = await chain.mustGetBlock(head.header.parentHash)
    expect(await balanceAfter(chain, parent.header)).toBe(0n)
    // Edits accumulate on the head's edited state.
    await chain.dev.editHead(setBalance(ADDRS[2] as Hex, 5n))
    expect(await balanceAfter(chain)).toBe(1234n)

    // The next block's header state root holds the edits; its own entry is none.
    await buildAndImport(chain, [])
    const next = chain.head.header
    expect(bytesToHex(chain.postStateRoot(next))).toBe(bytesToHex(next.stateRoot))
    expect(await balanceAfter(chain)).toBe(1234n)
    const a2 = await chain.stateAt(next.stateRoot).getAccount(new Address(hexToBytes(ADDRS[2] as Hex)))
    expect(a2?.balance).toBe(5n)
    // The old head keeps its edited state (reads at its number, as Anvil).
    expect(await balanceAfter(chain, head.header)).toBe(1234n)
  })

  it('a transaction from an account funded only by an edit is sealed, and replays on the edited state', async () => {
    const chain = await openChain()
    const key = Uint8Array.from({ length: 32 }, (_, i) => i + 1)
    const sender = bytesToHex(privateToAddress(key)) as Hex
    await chain.dev.editHead(setBalance(sender, 10n ** 18n))
    const tx = transfer(chain.common, key, 0n, X, 7n)
    const { block, rejected } = await buildAndImport(chain, [tx])
    expect(rejected).toEqual([])
    expect(block.transactions.length).toBe(1)
    expect(await balanceAfter(chain)).toBe(7n)
    const replay = await replayTransaction(chain, block, 0)
    const result = await replay.run()
    expect(result.execResult.exceptionError).toBeUndefined()
  })

  it('a received block runs on its parent header state, not on our edits', async () => {
    const producer = await openChain()
    const follower = await openChain()
    await follower.dev.editHead(setBalance(X, 99n))
    const { block } = await buildAndImport(producer, [transfer(producer.common, KEYS[0] as Uint8Array, 0n, X, 3n)])
    const result = await importBlock(follower, block)
    expect(result.status).toBe('head')
    expect(await balanceAfter(follower)).toBe(3n)
  })

  it('dev.restoreHead puts a snapshot root back; a rewind forgets the edits of the blocks it removes', async () => {
    const chain = await openChain()
    await buildAndImport(chain, [])
    const base = chain.head
    const snap = await chain.dev.editHead(setBalance(X, 1n))
    await chain.dev.editHead(setBalance(X, 2n))
    await chain.dev.restoreHead(snap)
    expect(await balanceAfter(chain)).toBe(1n)
    await chain.dev.restoreHead(undefined)
    expect(await balanceAfter(chain)).toBe(0n)
    expect((chain.dev as DevChainControls).edits.size).toBe(0)

    await chain.dev.editHead(setBalance(X, 3n))
    await buildAndImport(chain, [])
    await chain.dev.editHead(setBalance(X, 4n))
    expect((chain.dev as DevChainControls).edits.size).toBe(2)
    await chain.dev.rewind(base.hash())
    // The removed block's edits are gone; the block rewound to keeps its own (anvil_rollback).
    expect((chain.dev as DevChainControls).edits.size).toBe(1)
    expect(await balanceAfter(chain)).toBe(3n)
  })

  it('are read back when the chain is opened again on the same store', async () => {
    const kv = new MemoryKV()
    const chain = await openChain(kv)
    await buildAndImport(chain, [])
    await chain.dev.editHead(setBalance(X, 42n))
    const again = await openChain(kv)
    expect(bytesToHex(again.head.hash())).toBe(bytesToHex(chain.head.hash()))
    expect(await balanceAfter(again)).toBe(42n)
  })
})
