// Blob KZG: the native backend (on its worker thread) against micro-eth-signer's pure-JS one.
import { describe, expect, it } from 'vitest'
import { BYTES_PER_BLOB, blobKzg, CELLS_PER_EXT_BLOB, pureJsBlobKzg } from '../src/index.ts'

function makeBlob(seed: number): Uint8Array {
  const blob = new Uint8Array(BYTES_PER_BLOB)
  let x = seed >>> 0
  for (let i = 0; i < blob.length; i++) {
    if (i % 32 === 0) continue // each field element's top byte 0: below the modulus
    x = (x * 1103515245 + 12345) >>> 0
    blob[i] = x >>> 24
  }
  return blob
}

describe('blob KZG', () => {
  const native = blobKzg()
  const js = pureJsBlobKzg()

  it('the native backend loads here, and its setup does not hold the event loop', async () => {
    expect(native.backend).toBe('node-eth-kzg')
    const blob = makeBlob(7)
    // Made with the pure-JS backend: any first call of the native one (a synchronous one too, which
    // the worker answers while the caller blocks) starts the worker, and this one must be async.
    const commitment = js.blobToCommitment(blob)
    const proof = js.computeBlobProof(blob, commitment)
    // The first verification starts the worker, whose setup takes seconds: the loop keeps turning
    // (a verification alone, on a context already made, takes a few ms: a handful of turns).
    let turns = 0
    let waiting = true
    const spin = () => {
      turns++
      if (waiting) setImmediate(spin)
    }
    setImmediate(spin)
    expect(await native.verifyBlobProofs([blob], [commitment], [proof])).toBe(true)
    waiting = false
    expect(turns).toBeGreaterThan(100)
    expect(await native.computeCellProofs(blob)).toHaveLength(CELLS_PER_EXT_BLOB)
  }, 120_000)

  it('native and pure-JS agree: commitments, blob proofs, cell proofs (valid and tampered)', async () => {
    const blob = makeBlob(11)
    const commitment = native.blobToCommitment(blob)
    expect(js.blobToCommitment(blob)).toEqual(commitment)
    const proof = native.computeBlobProof(blob, commitment)
    expect(js.computeBlobProof(blob, commitment)).toEqual(proof)
    for (const k of [native, js]) expect(await k.verifyBlobProofs([blob], [commitment], [proof])).toBe(true)
    const cellProofs = await native.computeCellProofs(blob)
    const tampered = [...cellProofs.slice(1), cellProofs[0] as Uint8Array]
    for (const k of [native, js]) {
      expect(await k.verifyCellProofs([blob], [commitment], cellProofs)).toBe(true)
      expect(await k.verifyCellProofs([blob], [commitment], tampered)).toBe(false)
    }
    // Another blob's proof does not verify this one.
    const other = makeBlob(12)
    const otherProof = native.computeBlobProof(other, native.blobToCommitment(other))
    for (const k of [native, js]) expect(await k.verifyBlobProofs([blob], [commitment], [otherProof])).toBe(false)
  }, 180_000)

  it('a commitment that is not a curve point is refused as the caller’s input, not as a backend failure', async () => {
    const blob = makeBlob(13)
    const bad = new Uint8Array(48).fill(0xff)
    const err = await native.verifyBlobProofs([blob], [bad], [bad]).then(
      (ok) => ok,
      (e) => e,
    )
    if (err !== false) expect(err.fault).toBe('caller')
  }, 60_000)
})
