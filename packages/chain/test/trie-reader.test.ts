// The view calls' synchronous storage reader (src/view-call/trie-reader.ts, view-state.ts) against
// @ethereumjs/statemanager's getStorage on the same stored state: random storage (keys near each
// other and far apart, values small enough to be embedded in their branch and full words), read
// at every stored key and at absent ones, over LevelDB-shaped storage (the chain's own store).
import { MemoryKV } from '@cairn/db'
import { bytesToHex, type Hex } from '@cairn/utils'
import { Address, bigIntToBytes, hexToBytes, setLengthLeft } from '@ethereumjs/util'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { devGenesis } from '../src/index.ts'
import { ADDRS, openChain } from './helpers.ts'

const HOLDER = '0x00000000000000000000000000000000005107e5' as Hex
const EMPTY_HOLDER = '0x00000000000000000000000000000000005107e6' as Hex

const slotKey = fc.oneof(
  fc.bigInt({ min: 0n, max: 40n }),
  fc.bigInt({ min: 0n, max: (1n << 256n) - 1n }),
  fc.bigInt({ min: 1n << 255n, max: (1n << 255n) + 20n }),
)
const slotValue = fc.oneof(fc.bigInt({ min: 1n, max: 255n }), fc.bigInt({ min: 1n, max: (1n << 256n) - 1n }))
const word = (v: bigint) => bytesToHex(setLengthLeft(bigIntToBytes(v), 32))

describe('view calls: storage read straight from the trie', () => {
  it('reads what the state manager reads, present and absent', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.tuple(slotKey, slotValue), { selector: ([k]) => k, maxLength: 60 }),
        fc.array(slotKey, { maxLength: 20 }),
        async (slots, absent) => {
          const genesis = devGenesis({ accounts: ADDRS }) as { alloc: Record<string, unknown> }
          genesis.alloc[HOLDER] = {
            balance: '0x0',
            code: '0x00',
            storage: Object.fromEntries(slots.map(([k, v]) => [word(k), word(v)])),
          }
          genesis.alloc[EMPTY_HOLDER] = { balance: '0x0', code: '0x00' }
          const kv = new MemoryKV()
          const chain = await openChain(kv, genesis)
          try {
            const { header } = chain.head
            const full = chain.executor.stateAt(header.stateRoot)
            const state = chain.executor.viewState(header)
            for (const who of [HOLDER, EMPTY_HOLDER, ADDRS[0] as Hex]) {
              const address = new Address(hexToBytes(who))
              const read = await state.storageOf(address)
              for (const k of [...slots.map(([key]) => key), ...absent]) {
                const key = setLengthLeft(bigIntToBytes(k), 32)
                const mine = read(key)
                expect(mine).not.toBeInstanceOf(Promise) // every node was in the store
                expect(bytesToHex(mine as Uint8Array)).toBe(bytesToHex(await full.getStorage(address, key)))
              }
            }
          } finally {
            await kv.close()
          }
        },
      ),
      { numRuns: 60 },
    )
  })
})
