/**
 * Blob KZG backends: verifying blobs' EIP-7594 cell proofs (cells recomputed from the blobs, as the
 * pool does) and EIP-4844 blob proofs, native (`@crate-crypto/node-eth-kzg`, on its worker) and
 * pure JS (micro-eth-signer). Not part of `npm test`.
 *
 *   node --import tsx packages/crypto/bench/blob-kzg.bench.ts [blobs=1] [rounds=3] [--no-js]
 */
import { BYTES_PER_BLOB, blobKzg, pureJsBlobKzg } from '../src/index.ts'

const blobs = Number(process.argv[2] ?? 1)
const rounds = Number(process.argv[3] ?? 3)
const withJs = !process.argv.includes('--no-js')

function randomBlob(seed: number): Uint8Array {
  const blob = new Uint8Array(BYTES_PER_BLOB)
  let x = seed >>> 0
  for (let i = 0; i < blob.length; i++) {
    if (i % 32 === 0) continue
    x = (x * 1103515245 + 12345) >>> 0
    blob[i] = x >>> 24
  }
  return blob
}

const native = blobKzg()
const bs = Array.from({ length: blobs }, (_, i) => randomBlob(i + 1))
let t = performance.now()
const commitments = bs.map((b) => native.blobToCommitment(b))
console.log(`setup (this thread) + ${blobs} commitments: ${(performance.now() - t).toFixed(0)} ms`)
const blobProofs = bs.map((b, i) => native.computeBlobProof(b, commitments[i] as Uint8Array))
t = performance.now()
await native.verifyBlobProofs(bs, commitments, blobProofs)
console.log(`first verification (starts the worker, its setup): ${(performance.now() - t).toFixed(0)} ms`)
t = performance.now()
const cellProofs = (await Promise.all(bs.map((b) => native.computeCellProofs(b)))).flat()
console.log(`native: compute cell proofs: ${(performance.now() - t).toFixed(0)} ms`)

for (const [name, k] of withJs
  ? [['native', native] as const, ['pure-js', pureJsBlobKzg()] as const]
  : [['native', native] as const]) {
  for (let r = 0; r < rounds; r++) {
    t = performance.now()
    const ok = await k.verifyCellProofs(bs, commitments, cellProofs)
    const cells = performance.now() - t
    t = performance.now()
    const ok4844 = await k.verifyBlobProofs(bs, commitments, blobProofs)
    const blob = performance.now() - t
    console.log(
      `${name}: ${blobs} blob(s): cell proofs ${cells.toFixed(1)} ms (${ok}), blob proofs ${blob.toFixed(1)} ms (${ok4844})`,
    )
  }
}
