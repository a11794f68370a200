import { Common, Hardfork, Mainnet } from '@ethereumjs/common'
import { Caches, MerkleStateManager, type MerkleStateManagerOpts } from '@ethereumjs/statemanager'
import { Account, type Address, bytesToHex, createAddressFromString, MapDB, setLengthLeft } from '@ethereumjs/util'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { BatchedStateManager } from '../../src/fast/batched-state.ts'
import { newStateManager } from '../../src/state/state-manager.ts'

// Three contracts; the first starts with storage, the others with none. Slots from a small set
// so writes meet earlier ones; values mostly zero (a delete) or one byte.
const ADDRESSES = ['0x' + '11'.repeat(20), '0x' + '22'.repeat(20), '0x' + '33'.repeat(20)].map((a) =>
  createAddressFromString(a),
)
const opArb = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('store' as const),
      who: fc.nat(2),
      slot: fc.nat(5),
      value: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 255 })),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('read' as const), who: fc.nat(2), slot: fc.nat(5) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('clear' as const), who: fc.nat(2) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('flush' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('checkpoint' as const), commit: fc.boolean() }) },
)

async function seeded(make: (o: MerkleStateManagerOpts) => MerkleStateManager) {
  const common = new Common({ chain: Mainnet, hardfork: Hardfork.Prague })
  const sm = newStateManager(common, new MapDB(), undefined, new Caches(), make)
  for (const address of ADDRESSES) await sm.putAccount(address, new Account(0n, 1n))
  await sm.putStorage(ADDRESSES[0] as Address, slot(0), Uint8Array.of(7))
  await sm.checkpoint()
  await sm.commit()
  await sm.flush()
  return sm
}

function slot(n: number): Uint8Array {
  return setLengthLeft(Uint8Array.of(n), 32)
}

describe('BatchedStateManager (the executor state manager)', () => {
  it('gives the state root and storage of MerkleStateManager for storage writes, reads and clears, zeros and empty tries included', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { maxLength: 40 }), async (ops) => {
        const reference = await seeded((o) => new MerkleStateManager(o))
        const batched = await seeded((o) => new BatchedStateManager(o))
        const readsOf = new Map<MerkleStateManager, string[]>()
        for (const sm of [reference, batched]) {
          const reads: string[] = []
          for (const op of ops) {
            if (op.kind === 'store') {
              const value = op.value === 0 ? new Uint8Array(32) : Uint8Array.of(op.value)
              await sm.putStorage(ADDRESSES[op.who] as Address, slot(op.slot), value)
            } else if (op.kind === 'read') {
              reads.push(bytesToHex(await sm.getStorage(ADDRESSES[op.who] as Address, slot(op.slot))))
            } else if (op.kind === 'clear') {
              await sm.clearStorage(ADDRESSES[op.who] as Address)
            } else if (op.kind === 'flush') {
              await sm.flush()
            } else {
              await sm.checkpoint()
              if (op.commit) await sm.commit()
              else await sm.revert()
            }
          }
          await sm.flush()
          readsOf.set(sm, reads)
        }
        expect(readsOf.get(batched)).toEqual(readsOf.get(reference))
        expect(bytesToHex(await batched.getStateRoot())).toBe(bytesToHex(await reference.getStateRoot()))
        for (const address of ADDRESSES) {
          const a = await reference.getAccount(address)
          const b = await batched.getAccount(address)
          expect(bytesToHex(b?.storageRoot ?? new Uint8Array())).toBe(bytesToHex(a?.storageRoot ?? new Uint8Array()))
          for (let s = 0; s < 6; s++) {
            expect(bytesToHex(await batched.getStorage(address, slot(s)))).toBe(
              bytesToHex(await reference.getStorage(address, slot(s))),
            )
          }
        }
      }),
      { numRuns: 150 },
    )
  })
})
