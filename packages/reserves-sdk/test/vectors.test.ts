import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { generateInvalidVectors, INVALID_FILE, VECTORS_FILE } from '../scripts/gen-invalid-vectors.ts'
import { verifyProof } from '../src/index.ts'

const vectors = JSON.parse(readFileSync(VECTORS_FILE, 'utf8')) as {
  snapshots: { root: { hash: string }; proofs: unknown[] }[]
}
const invalid = JSON.parse(readFileSync(INVALID_FILE, 'utf8')) as {
  cases: { name: string; expectedRoot?: string; proof: unknown; reason: string }[]
}

describe('the shared vectors through the SDK', () => {
  it('every published proof verifies against its snapshot root', () => {
    let n = 0
    for (const s of vectors.snapshots)
      for (const p of s.proofs) {
        expect(verifyProof(p, { expectedRoot: s.root.hash })).toMatchObject({ ok: true, computedRoot: s.root.hash })
        n++
      }
    expect(n).toBe(8)
  })

  it('vectors/invalid.json is what scripts/gen-invalid-vectors.ts generates (regenerate it when the verifier changes)', () => {
    expect(generateInvalidVectors(vectors)).toEqual(invalid)
  })

  it('every invalid case fails, with its reason', () => {
    expect(invalid.cases.length).toBeGreaterThanOrEqual(60)
    for (const c of invalid.cases) {
      const r = verifyProof(c.proof, c.expectedRoot === undefined ? {} : { expectedRoot: c.expectedRoot })
      expect({ name: c.name, ok: r.ok, reason: r.reason }).toEqual({ name: c.name, ok: false, reason: c.reason })
    }
  })
})
