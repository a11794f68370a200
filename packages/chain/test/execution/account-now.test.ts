// Executor.accountNow and storageNow (the head's accounts and slots read without waiting, for RPC
// reads answered in the same turn) against a fresh state manager's getAccount and getStorage at
// the same state root: over random runs of blocks (transfers, and calls that write a slot per
// block), edits without a block and new heads, for accounts that exist, never existed, were just
// created or were just changed, each read twice (from the trie, then from what it kept).
import { MemoryKV } from '@cairn/db'
import type { Hex } from '@cairn/utils'
import { Address, hexToBytes, setLengthLeft } from '@ethereumjs/util'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { chainParts } from '../../src/chain-parts.ts'
import { newStateManager, type StateEdit } from '../../src/index.ts'
import { ADDRS, BH1_ADDR, buildAndImport, call, contractsGenesis, KEYS, openChain, transfer } from '../helpers.ts'

type Chain = Awaited<ReturnType<typeof openChain>>

const FRESH = [1, 2, 3, 4].map((i) => `0x${i.toString(16).padStart(40, 'e')}` as Hex)
const POOL: Hex[] = [...ADDRS, ...FRESH, BH1_ADDR]
/** Slots read: BH1's code writes slot n (the block number) with the hash of block n - 1. */
const SLOTS = [0, 1, 2, 3, 5, 8].map((n) => setLengthLeft(new Uint8Array([n]), 32))

type Step =
  | { kind: 'block'; transfers: { from: number; to: number; value: bigint }[]; write: boolean }
  | { kind: 'edit'; who: number; balance: bigint }
  | { kind: 'store'; who: number; slot: number; value: number }

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    kind: fc.constant('block' as const),
    transfers: fc.array(
      fc.record({
        from: fc.nat(KEYS.length - 1),
        to: fc.nat(POOL.length - 1),
        value: fc.bigInt(0n, 10n ** 18n),
      }),
      { maxLength: 4 },
    ),
    write: fc.boolean(),
  }),
  fc.record({ kind: fc.constant('edit' as const), who: fc.nat(POOL.length - 1), balance: fc.bigInt(0n, 10n ** 20n) }),
  fc.record({
    kind: fc.constant('store' as const),
    who: fc.nat(POOL.length - 1),
    slot: fc.nat(SLOTS.length - 1),
    value: fc.nat(255),
  }),
)

/** What a state manager of its own reads at the state after the head (no shared cache). */
async function reference(chain: Chain, addr: Hex) {
  const root = chain.postStateRoot(chain.head.header)
  const sm = newStateManager(chain.head.header.common, chainParts(chain).stateDB.readView(), root)
  const a = new Address(hexToBytes(addr))
  const account = await sm.getAccount(a)
  const slots = await Promise.all(SLOTS.map((k) => (account ? sm.getStorage(a, k) : new Uint8Array())))
  return { account: account === undefined ? null : account.serialize(), slots }
}

function now(chain: Chain, addr: Hex) {
  const { header } = chain.head
  const account = chain.accountNow(header, addr)
  if (account === undefined) throw new Error(`${addr}: not at hand`)
  const slots = SLOTS.map((k) => {
    const value = chain.storageNow(header, addr, k)
    if (value === undefined) throw new Error(`${addr}: a slot not at hand`)
    return value
  })
  return { account: account === null ? null : account.serialize(), slots }
}

const setBalance =
  (addr: Hex, wei: bigint): StateEdit =>
  (sm) =>
    sm.modifyAccountFields(new Address(hexToBytes(addr)), { balance: wei })
const putSlot =
  (addr: Hex, key: Uint8Array, value: number): StateEdit =>
  async (sm) => {
    const a = new Address(hexToBytes(addr))
    // A slot of an account that does not exist is not stored (the edit makes it first, as anvil_setStorageAt).
    if ((await sm.getAccount(a)) === undefined) await sm.modifyAccountFields(a, { nonce: 0n })
    await sm.putStorage(a, key, value === 0 ? new Uint8Array() : new Uint8Array([value]))
  }

describe('Executor.accountNow and storageNow', () => {
  it('read what getAccount and getStorage read at the state after the head, across blocks and edits', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 6 }), async (steps) => {
        const chain = await openChain(new MemoryKV(), contractsGenesis())
        const nonces = KEYS.map(() => 0n)
        const next = (i: number) => {
          const nonce = nonces[i] as bigint
          nonces[i] = nonce + 1n
          return nonce
        }
        for (const s of steps) {
          if (s.kind === 'block') {
            const { common } = chain.head.header
            const txs = s.transfers.map((t) =>
              transfer(common, KEYS[t.from] as Uint8Array, next(t.from), POOL[t.to] as Hex, t.value),
            )
            if (s.write) txs.push(call(common, KEYS[0] as Uint8Array, next(0), BH1_ADDR))
            await buildAndImport(chain, txs)
          } else if (s.kind === 'edit') {
            await chain.dev.editHead(setBalance(POOL[s.who] as Hex, s.balance))
          } else {
            await chain.dev.editHead(putSlot(POOL[s.who] as Hex, SLOTS[s.slot] as Uint8Array, s.value))
          }
          for (const addr of POOL) {
            const expected = await reference(chain, addr)
            expect(now(chain, addr)).toEqual(expected) // read from the trie (or the view's cache)
            expect(now(chain, addr)).toEqual(expected) // read from what accountNow kept
          }
        }
      }),
      { numRuns: 25 },
    )
  })

  it('answers undefined, not a wrong account, when a node of the path is not stored', async () => {
    const chain = await openChain(new MemoryKV())
    // A state root no node of which is stored: nothing at hand, so the caller reads another way.
    const header = { ...chain.head.header, stateRoot: new Uint8Array(32).fill(7) } as typeof chain.head.header
    expect(chain.postStateRoot(header)).toEqual(new Uint8Array(32).fill(7))
    expect(chain.accountNow(header, ADDRS[0] as Hex)).toBeUndefined()
  })
})
