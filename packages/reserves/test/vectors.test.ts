import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { generateVectors } from '../src/vectors.ts'
import { verifyProof } from '../src/verifier/index.ts'

const file = new URL('../../../docs/reserves/vectors.json', import.meta.url)

describe('proof format v1 test vectors (docs/reserves/vectors.json)', () => {
  const published = JSON.parse(readFileSync(file, 'utf8')) as {
    snapshots: { proofs: unknown[]; root: { hash: string } }[]
  }

  it('are exactly what the code generates', () => {
    expect(JSON.parse(JSON.stringify(generateVectors()))).toEqual(published)
  })

  it('every published proof verifies against its snapshot root', () => {
    expect(published.snapshots).toHaveLength(2)
    for (const s of published.snapshots) {
      expect(s.proofs).toHaveLength(4)
      for (const p of s.proofs) expect(verifyProof(p, { expectedRoot: s.root.hash }).ok).toBe(true)
    }
  })
})
