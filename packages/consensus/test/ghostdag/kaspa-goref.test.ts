// Kaspa's 5,000-block DAG mined by its simulator (fixtures/goref-notx-5000.json.gz, extracted from
// rusty-kaspa's goref-notx-5000-blocks, see fixtures/README.md): real block hashes, K = 124, up to
// 10 parents and 2,082 different difficulties. Every header carries the blue score and blue work
// Kaspa's consensus computed; the engine's own BlockDag must give the same for every block, with
// each block's work from its compact bits through the PoW module (Kaspa's `calc_work`).
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { BlockDag, type BlockHash, MemoryDagStore, MemoryReachabilityStore } from '../../src/ghostdag/index.ts'
import { targetFromBits, workOf } from '../../src/pow/index.ts'

type Row = [hash: string, parents: number[], bits: number, blueScore: number, blueWorkHex: string]

const fixture = JSON.parse(
  gunzipSync(readFileSync(join(import.meta.dirname, 'fixtures', 'goref-notx-5000.json.gz'))).toString('utf8'),
) as { K: number; blocks: Row[] }

const work = (bits: number) => workOf(targetFromBits(bits))

describe("Kaspa's simulated 5,000-block DAG (real hashes, varying difficulty)", () => {
  it('gives every block the blue score and blue work its Kaspa header carries', () => {
    const rows = fixture.blocks
    expect(fixture.K).toBe(124)
    expect(rows).toHaveLength(5001)
    const hashes = rows.map((r) => `0x${r[0]}` as BlockHash)
    const bd = new BlockDag(
      { k: fixture.K, genesis: hashes[0]!, genesisWork: work(rows[0]![2]) },
      { store: new MemoryDagStore(), reachability: new MemoryReachabilityStore() },
    )
    let multiParent = 0
    const mismatches: string[] = []
    for (let i = 1; i < rows.length; i++) {
      const [, parents, bits, blueScore, blueWorkHex] = rows[i]!
      if (parents.length > 1) multiParent++
      const d = bd.addBlock(
        hashes[i]!,
        parents.map((p) => hashes[p]!),
        work(bits),
      )
      if (d.blueScore !== blueScore || d.blueWork !== BigInt(`0x${blueWorkHex}`)) {
        mismatches.push(`${rows[i]![0]}: ${d.blueScore}/${d.blueWork} want ${blueScore}/0x${blueWorkHex}`)
      }
    }
    expect(mismatches.slice(0, 5)).toEqual([])
    // The DAG is a DAG, not a chain: most blocks merge others.
    expect(multiParent).toBeGreaterThan(2000)
    // The sink is the header of highest blue work in the file.
    const best = rows.reduce((a, r) => (BigInt(`0x${r[4]}`) > BigInt(`0x${a[4]}`) ? r : a))
    expect(bd.sink).toBe(`0x${best[0]}`)
  })

  it('a genesis counted with no work shifts every blue work (what Kaspa does not do)', () => {
    const rows = fixture.blocks.slice(0, 50)
    const hashes = rows.map((r) => `0x${r[0]}` as BlockHash)
    const bd = new BlockDag(
      { k: fixture.K, genesis: hashes[0]! },
      { store: new MemoryDagStore(), reachability: new MemoryReachabilityStore() },
    )
    const d = bd.addBlock(
      hashes[1]!,
      rows[1]![1].map((p) => hashes[p]!),
      work(rows[1]![2]),
    )
    expect(d.blueWork).not.toBe(BigInt(`0x${rows[1]![4]}`))
    expect(d.blueWork + work(rows[0]![2])).toBe(BigInt(`0x${rows[1]![4]}`))
  })
})
