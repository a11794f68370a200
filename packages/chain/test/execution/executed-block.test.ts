import { MemoryKV } from '@cairn/db'
import { bytesToHex, type Hex, silentLogger } from '@cairn/utils'
import type { Block } from '@ethereumjs/block'
import { Account, createAddressFromString } from '@ethereumjs/util'
import { describe, expect, it } from 'vitest'
import { chainParts } from '../../src/chain-parts.ts'
import { Chain, type ChainEngine, devGenesis } from '../../src/index.ts'
import {
  ADDRS,
  BH1_ADDR,
  BH2_ADDR,
  balanceAt,
  call,
  contractsGenesis,
  importBlock,
  KEYS,
  listSource,
  openChain,
  storageAt,
  testEngine,
  transfer,
} from '../helpers.ts'

const [K0, K1] = KEYS as [Uint8Array, Uint8Array]
const X = '0x00000000000000000000000000000000000000aa' as Hex
const Y = '0x00000000000000000000000000000000000000bb' as Hex
const hex = (b: Block) => bytesToHex(b.hash())
const slot = (n: bigint) => {
  const s = new Uint8Array(32)
  s[31] = Number(n)
  return s
}

describe('execution returns values that own their writes', () => {
  it('two sibling blocks executed before either commits: the second commits, then the first as a fork, both intact', async () => {
    const chain = await openChain()
    const genesis = chain.head
    const t = genesis.header.timestamp + 12n
    const one = await chain.build(genesis, { timestamp: t }, listSource([transfer(chain.common, K0, 0n, X, 5n)]))
    const two = await chain.build(
      genesis,
      { timestamp: t + 1n },
      listSource([transfer(chain.common, K1, 0n, Y, 7n), transfer(chain.common, K0, 0n, Y, 3n)]),
    )
    // Neither is stored yet.
    expect(chain.hasState(one.stateRoot)).toBe(false)
    expect(chain.hasState(two.stateRoot)).toBe(false)

    expect((await chain.committer.commit(two)).status).toBe('head')
    expect((await chain.committer.commit(one)).status).toBe('side')
    expect(hex(chain.head)).toBe(hex(two.block))

    // Each block's state is whole at its own root.
    expect(await balanceAt(chain, one.stateRoot, X)).toBe(5n)
    expect(await balanceAt(chain, one.stateRoot, Y)).toBe(0n)
    expect(await balanceAt(chain, two.stateRoot, X)).toBe(0n)
    expect(await balanceAt(chain, two.stateRoot, Y)).toBe(10n)
    expect(await chain.getReceipts(one.block.hash())).toHaveLength(1)
    expect(await chain.getReceipts(two.block.hash())).toHaveLength(2)

    // A replica re-executing both (from the store, no producer result) agrees on every root, and
    // building on the fork works from the stored side block.
    const replica = await openChain()
    expect((await importBlock(replica, one.block)).status).toBe('head')
    expect((await importBlock(replica, two.block)).status).toBe('side')
    const child = await chain.build(one.block, { timestamp: t + 12n }, listSource([]))
    expect((await chain.committer.commit(child)).status).toBe('head')
    expect((await importBlock(replica, child.block)).status).toBe('head')
    expect(hex(replica.head)).toBe(hex(chain.head))
  })

  it('a dropped execution leaves nothing behind, and only its own writes go', async () => {
    const chain = await openChain()
    const genesis = chain.head
    const t = genesis.header.timestamp + 12n
    const dropped = await chain.build(genesis, { timestamp: t }, listSource([transfer(chain.common, K0, 0n, X, 1n)]))
    const kept = await chain.build(genesis, { timestamp: t }, listSource([transfer(chain.common, K0, 0n, X, 2n)]))
    expect(dropped.writes.size).toBeGreaterThan(0)
    await chain.committer.commit(kept)
    expect(chain.hasState(kept.stateRoot)).toBe(true)
    expect(chain.hasState(dropped.stateRoot)).toBe(false)
    expect(chainParts(chain).stateDB.pendingCount).toBe(0)
    expect(await balanceAt(chain, chain.head.header.stateRoot, X)).toBe(2n)
  })

  it('builds on an executed, uncommitted parent (BLOCKHASH and state see it), then both commit', async () => {
    const chain = await openChain(new MemoryKV(), contractsGenesis())
    const genesis = chain.head
    const t = genesis.header.timestamp + 12n
    const first = await chain.build(genesis, { timestamp: t }, listSource([transfer(chain.common, K0, 0n, X, 9n)]))
    // Block 2 on block 1 before block 1 is stored: a nonce that only block 1 made valid, and
    // BLOCKHASH(1) and BLOCKHASH(0) read from the uncommitted parent and the store.
    const second = await chain.build(
      first,
      { timestamp: t + 12n },
      listSource([
        transfer(chain.common, K0, 1n, X, 1n),
        call(chain.common, K1, 0n, BH1_ADDR),
        call(chain.common, K1, 1n, BH2_ADDR),
      ]),
    )
    expect(second.rejected).toEqual([])
    expect(second.pendingAncestors.map((h) => h.number)).toEqual([1n])
    await expect(chain.committer.commit(second)).rejects.toThrow(/parent .* is unknown/)
    expect((await chain.committer.commit(first)).status).toBe('head')
    expect(first.writes.committed).toBe(true)
    expect((await chain.committer.commit(second)).status).toBe('head')
    const root = chain.head.header.stateRoot
    expect(await balanceAt(chain, root, X)).toBe(10n)
    expect(bytesToHex(await storageAt(chain, root, BH1_ADDR, slot(2n)))).toBe(hex(first.block))
    expect(bytesToHex(await storageAt(chain, root, BH2_ADDR, slot(2n)))).toBe(hex(genesis))

    // A replica executing the same blocks from the store agrees.
    const replica = await openChain(new MemoryKV(), contractsGenesis())
    await importBlock(replica, first.block)
    await importBlock(replica, second.block)
    expect(hex(replica.head)).toBe(hex(chain.head))
    expect(await balanceAt(replica, root, ADDRS[0] as Hex)).toBe(await balanceAt(chain, root, ADDRS[0] as Hex))
  })

  it("execution does not wait for the importer's lock", async () => {
    const chain = await openChain()
    let release = () => {}
    const held = new Promise<void>((r) => {
      release = r
    })
    const locked = chain.exclusive(() => held)
    // Runs to the end while the lock is held.
    const built = await chain.build(
      chain.head,
      { timestamp: chain.head.header.timestamp + 12n },
      listSource([transfer(chain.common, K0, 0n, X, 1n)]),
    )
    expect(built.block.transactions).toHaveLength(1)
    const importing = chain.committer.commit(built)
    release()
    await locked
    expect((await importing).status).toBe('head')
  })
})

describe('engine hooks: beginBlock and endBlock', () => {
  it('run the same when producing and importing; endBlock returns validator updates carried by the executed block', async () => {
    const REWARD = '0x00000000000000000000000000000000000000cc' as Hex
    const calls: string[] = []
    const engine: ChainEngine = {
      ...testEngine,
      async beginBlock({ header, state }) {
        calls.push(`begin ${header.number}`)
        const addr = createAddressFromString(REWARD)
        const acct = (await state.getAccount(addr)) ?? new Account()
        acct.balance += 1000n
        await state.putAccount(addr, acct)
      },
      async endBlock({ header, txs, results }) {
        calls.push(`end ${header.number} ${txs.length} ${results.length}`)
        return { validatorUpdates: [{ address: new Uint8Array(20).fill(1), power: header.number }] }
      },
    }
    const open = async () => {
      const kv = new MemoryKV()
      await kv.open()
      return Chain.open(
        { genesis: devGenesis({ accounts: ADDRS }) },
        { kv, engine, logger: silentLogger, metrics: null },
      )
    }
    const chain = await open()
    const built = await chain.build(
      chain.head,
      { timestamp: chain.head.header.timestamp + 12n },
      listSource([transfer(chain.common, K0, 0n, X, 1n)]),
    )
    expect(built.endBlock?.validatorUpdates?.[0]?.power).toBe(1n)
    await chain.committer.commit(built)
    expect(await balanceAt(chain, chain.head.header.stateRoot, REWARD)).toBe(1000n)
    const replica = await open()
    expect((await importBlock(replica, built.block)).status).toBe('head')
    expect(calls).toEqual(['begin 1', 'end 1 1 1', 'begin 1', 'end 1 1 1'])
  })
})
