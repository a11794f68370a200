import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { type KVStore, LevelKV, MemoryKV } from '../src/index.ts'

const dirs: string[] = []
/** LevelDB hands back Buffers; compare contents only. */
const u8 = (b: Uint8Array | undefined) => (b === undefined ? undefined : new Uint8Array(b))
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

async function collect(it: AsyncIterable<[Uint8Array, Uint8Array]>): Promise<string[]> {
  const out: string[] = []
  for await (const [k, v] of it) out.push(`${Buffer.from(k).toString('hex')}=${Buffer.from(v).toString('hex')}`)
  return out
}

const stores: [string, () => Promise<KVStore>][] = [
  ['MemoryKV', async () => new MemoryKV()],
  [
    'LevelKV',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'cairn-kv-'))
      dirs.push(dir)
      return new LevelKV({ path: dir })
    },
  ],
]

const key = fc.uint8Array({ minLength: 0, maxLength: 4 })
const op = fc.oneof(
  fc.record({ type: fc.constant('put' as const), key, value: fc.uint8Array({ maxLength: 8 }) }),
  fc.record({ type: fc.constant('del' as const), key }),
)

describe.each(stores)('%s', (_name, make) => {
  it('behaves as a sorted map under random batches, with ordered and bounded iteration', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(op, { maxLength: 10 }), { maxLength: 8 }), key, async (batches, bound) => {
        const db = await make()
        await db.open()
        const model = new Map<string, Uint8Array>()
        for (const b of batches) {
          await db.batch(b)
          for (const o of b) {
            const k = Buffer.from(o.key).toString('hex')
            if (o.type === 'put') model.set(k, o.value)
            else model.delete(k)
          }
        }
        const expected = [...model.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        const all = await collect(db.iterate())
        expect(all).toEqual(expected.map(([k, v]) => `${k}=${Buffer.from(v).toString('hex')}`))
        const reversed = await collect(db.iterate({ reverse: true }))
        expect(reversed).toEqual([...all].reverse())
        const b = Buffer.from(bound).toString('hex')
        const gte = await collect(db.iterate({ gte: bound }))
        expect(gte).toEqual(all.filter((e) => (e.split('=')[0] as string) >= b))
        for (const [k, v] of expected) {
          expect(u8(db.getSync(Buffer.from(k, 'hex')))).toEqual(u8(v))
          expect(u8(await db.get(Buffer.from(k, 'hex')))).toEqual(u8(v))
        }
        await db.close()
      }),
      { numRuns: 25 },
    )
  })

  it('keeps a snapshot unchanged by later writes', async () => {
    const db = await make()
    await db.open()
    const k = new Uint8Array([1])
    await db.put(k, new Uint8Array([1]))
    const snap = db.snapshot()
    await db.put(k, new Uint8Array([2]))
    await db.put(new Uint8Array([2]), new Uint8Array([3]))
    expect(u8(await snap.get(k))).toEqual(new Uint8Array([1]))
    expect((await collect(snap.iterate())).length).toBe(1)
    expect(u8(await db.get(k))).toEqual(new Uint8Array([2]))
    await snap.close()
    await db.close()
  })
})

describe('LevelKV', () => {
  it('keeps data across close and reopen', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cairn-kv-'))
    dirs.push(dir)
    const a = new LevelKV({ path: dir })
    await a.open()
    await a.batch([{ type: 'put', key: new Uint8Array([7]), value: new Uint8Array([8]) }])
    await a.close()
    const b = new LevelKV({ path: dir })
    await b.open()
    expect(u8(await b.get(new Uint8Array([7])))).toEqual(new Uint8Array([8]))
    await b.close()
  })

  it('refuses a datadir held by another process with DB_OPEN_FAILED and a hint', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cairn-kv-'))
    dirs.push(dir)
    const a = new LevelKV({ path: dir })
    await a.open()
    const b = new LevelKV({ path: dir })
    await expect(b.open()).rejects.toMatchObject({ code: 'DB_OPEN_FAILED', hint: expect.stringContaining('another') })
    await a.close()
  })
})
