// State preimages (anvil_dumpState's list of what was written): every address and slot recorded is
// read back — before its block commits, after, and by a later run over the same store — while a key
// written again and again is put into batches once per turnover of the recent set, not per write.
import { Bucket, bucketRange, MemoryKV, WriteBatch } from '@cairn/db'
import { Address, bytesToHex, setLengthLeft } from '@ethereumjs/util'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { type PreimageIndex, StatePreimages } from '../../src/state/preimages.ts'

const address = (n: number) => new Address(setLengthLeft(new Uint8Array([n]), 20))
const hex = (n: number) => address(n).toString()
const slotHex = (s: Uint8Array) => bytesToHex(setLengthLeft(s, 32))

/** Drains `p` into a batch written to `kv`; the number of puts. */
async function commit(p: StatePreimages, kv: MemoryKV): Promise<number> {
  const batch = new WriteBatch()
  p.drainInto(batch)
  const puts = batch.ops.length
  await batch.write(kv)
  return puts
}

async function storedKeys(kv: MemoryKV): Promise<number> {
  let n = 0
  for await (const _ of kv.iterate(bucketRange(Bucket.preimage))) n++
  return n
}

const asObject = (index: PreimageIndex) =>
  Object.fromEntries(
    [...index].map(([a, slots]): [string, string[]] => [a, [...slots].sort()]).sort(([a], [b]) => (a < b ? -1 : 1)),
  )

describe('StatePreimages', () => {
  it('reads back what was recorded: pending, stored, and by a later run over the same store', async () => {
    const kv = new MemoryKV()
    const p = new StatePreimages(kv)
    p.record(address(1))
    p.record(address(2), new Uint8Array([7]))
    p.record(address(2), setLengthLeft(new Uint8Array([8]), 32))
    const expected = {
      [hex(1)]: [],
      [hex(2)]: [slotHex(new Uint8Array([7])), slotHex(new Uint8Array([8]))].sort(),
    }
    expect(asObject(await p.read())).toEqual(expected)
    expect(await storedKeys(kv)).toBe(0)
    expect(await commit(p, kv)).toBe(3)
    expect(asObject(await p.read())).toEqual(expected)
    expect(asObject(await new StatePreimages(kv).read())).toEqual(expected)
  })

  it('puts a key written in every block once per turnover of the recent set', async () => {
    const kv = new MemoryKV()
    const p = new StatePreimages(kv, 4)
    let puts = 0
    for (let block = 0; block < 50; block++) {
      p.record(address(1))
      p.record(address(1), new Uint8Array([1]))
      puts += await commit(p, kv)
    }
    expect(puts).toBe(2)
    // Five other keys turn the recent set over (two generations of four): the hot ones are put again.
    for (let n = 10; n < 19; n++) p.record(address(n))
    p.record(address(1))
    expect(await commit(p, kv)).toBe(10)
    expect(await storedKeys(kv)).toBe(11)
  })

  it('wraps a state manager: account, storage and code writes are recorded', async () => {
    const p = new StatePreimages(new MemoryKV())
    const calls: string[] = []
    const sm = {
      putAccount: async (_address: Address, _account?: unknown) => void calls.push('account'),
      putStorage: async (_address: Address, _key: Uint8Array, _value: Uint8Array) => void calls.push('storage'),
      putCode: async (_address: Address, _code: Uint8Array) => void calls.push('code'),
    }
    p.install(sm as never)
    await sm.putAccount(address(3))
    await sm.putStorage(address(4), new Uint8Array([5]), new Uint8Array([1]))
    await sm.putCode(address(6), new Uint8Array([0x60]))
    expect(calls).toEqual(['account', 'storage', 'code'])
    expect(asObject(await p.read())).toEqual({
      [hex(3)]: [],
      [hex(4)]: [slotHex(new Uint8Array([5]))],
      [hex(6)]: [],
    })
  })

  it('answers every key recorded, once, whatever the commits and the size of the recent set', async () => {
    const op = fc.oneof(
      fc.record({ address: fc.integer({ min: 0, max: 12 }), slot: fc.option(fc.integer({ min: 0, max: 3 })) }),
      fc.constant('commit' as const),
      fc.constant('restart' as const),
    )
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 80 }), fc.integer({ min: 1, max: 8 }), async (ops, limit) => {
        const kv = new MemoryKV()
        let p = new StatePreimages(kv, limit)
        const model = new Map<string, Set<string>>()
        for (const o of ops) {
          if (o === 'commit') await commit(p, kv)
          else if (o === 'restart') {
            // A run ends after its last commit: what is still pending belonged to no committed block.
            await commit(p, kv)
            p = new StatePreimages(kv, limit)
          } else {
            const slot = o.slot === null ? undefined : new Uint8Array([o.slot])
            p.record(address(o.address), slot)
            const slots = model.get(hex(o.address)) ?? new Set()
            if (slot) slots.add(slotHex(slot))
            model.set(hex(o.address), slots)
          }
        }
        expect(asObject(await p.read())).toEqual(asObject(model))
        await commit(p, kv)
        expect(asObject(await new StatePreimages(kv, limit).read())).toEqual(asObject(model))
      }),
      { numRuns: 200 },
    )
  })
})
