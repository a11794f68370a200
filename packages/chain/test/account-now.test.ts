// Executor.accountNow (the head's accounts read without waiting, for RPC reads answered in the
// same turn) against a fresh state manager's getAccount at the same state root: over random runs
// of blocks, edits without a block and new heads, for accounts that exist, never existed, were
// just created or were just changed, each read twice (from the trie, then from what it kept).
import { MemoryKV } from '@cairn/db'
import type { Hex } from '@cairn/utils'
import { Address, hexToBytes } from '@ethereumjs/util'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { editHeadState, newStateManager, type StateEdit } from '../src/index.ts'
import { ADDRS, buildAndImport, KEYS, openChain, transfer } from './helpers.ts'

type Chain = Awaited<ReturnType<typeof openChain>>

const FRESH = [1, 2, 3, 4].map((i) => `0x${i.toString(16).padStart(40, 'e')}` as Hex)
const POOL: Hex[] = [...ADDRS, ...FRESH]

type Step =
  | { kind: 'block'; transfers: { from: number; to: number; value: bigint }[] }
  | { kind: 'edit'; who: number; balance: bigint }

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
  }),
  fc.record({ kind: fc.constant('edit' as const), who: fc.nat(POOL.length - 1), balance: fc.bigInt(0n, 10n ** 20n) }),
)

/** What a state manager of its own reads at the state after the head (no shared cache). */
async function reference(chain: Chain, addr: Hex) {
  const root = chain.executor.postStateRoot(chain.head.header)
  const sm = newStateManager(chain.head.header.common, chain.stateDB.readView(), root)
  const account = await sm.getAccount(new Address(hexToBytes(addr)))
  return account === undefined ? null : account.serialize()
}

function now(chain: Chain, addr: Hex) {
  const account = chain.executor.accountNow(chain.head.header, addr)
  if (account === undefined) throw new Error(`${addr}: not at hand`)
  return account === null ? null : account.serialize()
}

const setBalance =
  (addr: Hex, wei: bigint): StateEdit =>
  (sm) =>
    sm.modifyAccountFields(new Address(hexToBytes(addr)), { balance: wei })

describe('Executor.accountNow', () => {
  it('reads what getAccount reads at the state after the head, across blocks and edits', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 6 }), async (steps) => {
        const chain = await openChain(new MemoryKV())
        const nonces = KEYS.map(() => 0n)
        for (const s of steps) {
          if (s.kind === 'block') {
            const txs = s.transfers.map((t) => {
              const nonce = nonces[t.from] as bigint
              nonces[t.from] = nonce + 1n
              return transfer(chain.head.header.common, KEYS[t.from] as Uint8Array, nonce, POOL[t.to] as Hex, t.value)
            })
            await buildAndImport(chain, txs)
          } else {
            await editHeadState(chain, setBalance(POOL[s.who] as Hex, s.balance))
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
    expect(chain.executor.postStateRoot(header)).toEqual(new Uint8Array(32).fill(7))
    expect(chain.executor.accountNow(header, ADDRS[0] as Hex)).toBeUndefined()
  })
})
