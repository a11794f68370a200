// Kaspa's GhostDAG test DAGs (fixtures/dag0..5.json, copied from rusty-kaspa's
// testing/integration/testdata/dags): every block's blue score, selected parent, mergeset blues and
// mergeset reds, in order, exactly as Kaspa's consensus computes them.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseTestDag, runTestDag } from '../../src/ghostdag/index.ts'

const FIXTURES = join(import.meta.dirname, 'fixtures')

interface KaspaBlock {
  ID: string
  ExpectedScore: number
  ExpectedSelectedParent: string
  ExpectedBlues: string[]
  ExpectedReds: string[]
}

const files = readdirSync(FIXTURES).filter((f) => /^dag\d+\.json$/.test(f))

describe("Kaspa's test DAGs", () => {
  it('are all here', () => {
    expect(files.sort()).toEqual(['dag0.json', 'dag1.json', 'dag2.json', 'dag3.json', 'dag4.json', 'dag5.json'])
  })

  for (const file of files) {
    it(`${file}: every block as Kaspa colours and orders it`, () => {
      const json = JSON.parse(readFileSync(join(FIXTURES, file), 'utf8'))
      const results = runTestDag(parseTestDag(json))
      const expected = (json.Blocks as KaspaBlock[]).map((b) => ({
        id: b.ID,
        blueScore: b.ExpectedScore,
        selectedParent: b.ExpectedSelectedParent,
        mergesetBlues: b.ExpectedBlues,
        mergesetReds: b.ExpectedReds,
      }))
      expect(results).toHaveLength(expected.length)
      for (let i = 0; i < expected.length; i++) expect(results[i], `block ${expected[i]!.id}`).toEqual(expected[i])
    })
  }
})
