import { describe, expect, it } from 'vitest'
import { Bucket, bytesCodec, MemoryKV, Repository, WriteBatch } from '../src/index.ts'

const u32 = {
  encode: (n: number) => new Uint8Array(new Uint32Array([n]).buffer).reverse(),
  decode: (b: Uint8Array) => new DataView(b.buffer, b.byteOffset).getUint32(0),
}

describe('Repository and WriteBatch', () => {
  it('writes nothing until the batch is written, then everything at once', async () => {
    const kv = new MemoryKV()
    const canonical = new Repository(kv, Bucket.canonical, u32, bytesCodec)
    const batch = new WriteBatch()
    canonical.put(1, new Uint8Array([0xaa]), batch)
    canonical.put(2, new Uint8Array([0xbb]), batch)
    expect(await canonical.get(1)).toBeUndefined()
    expect(batch.ops.map((op) => op.type === 'put' && op.value)).toEqual([
      new Uint8Array([0xaa]),
      new Uint8Array([0xbb]),
    ])
    await batch.write(kv)
    expect(await canonical.get(2)).toEqual(new Uint8Array([0xbb]))
    const entries: number[] = []
    for await (const [k] of canonical.entries()) entries.push(k)
    expect(entries).toEqual([1, 2])
  })

  it('keeps buckets apart', async () => {
    const kv = new MemoryKV()
    const a = new Repository(kv, Bucket.header, u32, bytesCodec)
    const b = new Repository(kv, Bucket.body, u32, bytesCodec)
    await a.put(1, new Uint8Array([1]))
    expect(await b.get(1)).toBeUndefined()
    const seen: number[] = []
    for await (const [k] of b.entries()) seen.push(k)
    expect(seen).toEqual([])
  })
})
