// Post-quantum vote signatures (issue 56, first slice): signatures and verifications per second for
// secp256k1 (the repo's signDigest / recoverSigner), ML-DSA-65 and hybrid; commit certificate and
// header extra-data bytes for N = 4, 7, 21, 100 validators (2N/3 + 1 signatures) per scheme with the
// real encoders, the light-client cost of verifying one certificate, and the overhead at the
// devnet's block interval (1 s). Single thread, in-process; prints node version and load average.
//   node --import tsx packages/consensus/bench/pq-votes.ts [N=300]
import { loadavg } from 'node:os'
import { keccak256 } from '@cairn/crypto'
import { rawDigestKey } from '@cairn/keys'
import { type SignatureScheme, verifySchemeCertificate, verifyVoteSignature } from '../src/bft/pq/index.ts'
import {
  type CommitCertificate,
  encodeBftExtra,
  encodeCertificate,
  encodeWire,
  MsgType,
  recoverSigner,
  signDigest,
  ValidatorSet,
  voteDigest,
} from '../src/index.ts'
import { hybridDigestKey, mlDsaDigestKey, type SchemeDigestKey } from '../src/privval/index.ts'

const N = Number(process.argv[2] ?? 300)
const CHAIN_ID = 5656n
const BLOCK_INTERVAL_MS = 1000 // `cairn devnet init` default (--block-time-ms)
const utf8 = (s: string) => new TextEncoder().encode(s)
const secpOf = (i: number) => keccak256(utf8(`pq-bench-secp-${i}`))
const seedOf = (i: number) => keccak256(utf8(`pq-bench-mldsa-${i}`))

console.log(
  `node ${process.version}, load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}, N = ${N}`,
)

// --- signatures and verifications per second -------------------------------------------------------
const digests = Array.from({ length: N }, (_, i) => keccak256(utf8(`digest ${i}`)))
const rate = (name: string, fn: (d: Uint8Array, i: number) => unknown): number => {
  for (let i = 0; i < Math.min(30, N); i++) fn(digests[i]!, i) // warm-up
  const t0 = performance.now()
  for (let i = 0; i < N; i++) fn(digests[i]!, i)
  const total = performance.now() - t0
  console.log(
    `${name.padEnd(44)} ${Math.round((N / total) * 1000)
      .toString()
      .padStart(7)} /s  ${((total / N) * 1000).toFixed(0).padStart(6)} µs`,
  )
  return total / N
}

const secp = secpOf(0)
const hybrid = hybridDigestKey({ secpKey: rawDigestKey(secp), pqSeed: seedOf(0) })
const mldsa = mlDsaDigestKey({ pqSeed: seedOf(0) })
const t0 = performance.now()
for (let i = 1; i <= 20; i++) mlDsaDigestKey({ pqSeed: seedOf(i) })
console.log(`${'ML-DSA-65 keygen from a seed'.padEnd(44)} ${((performance.now() - t0) / 20).toFixed(2)} ms`)

const secpSigs = digests.map((d) => signDigest(d, secp))
const pqSigs = digests.map((d) => mldsa.sign(d))
const hybridSigs = digests.map((d) => hybrid.sign(d))
const who = (k: SchemeDigestKey) => ({ address: k.address, pqPublicKey: k.pqPublicKey })
const mustVerify = (scheme: SignatureScheme, k: SchemeDigestKey, sigs: Uint8Array[]) => (d: Uint8Array, i: number) => {
  if (!verifyVoteSignature(scheme, d, sigs[i]!, who(k)).ok) throw new Error(`${scheme} signature ${i} did not verify`)
}

console.log('--- per signature (one core)')
/** Milliseconds per operation. */
const ms: Record<string, number> = {}
ms.secpSign = rate('secp256k1 sign (signDigest)', (d) => signDigest(d, secp))
ms.secpVerify = rate('secp256k1 verify (recoverSigner)', (d, i) => recoverSigner(d, secpSigs[i]!))
ms.pqSign = rate('ML-DSA-65 sign (hedged, ctx cairn-bft-v1)', (d) => mldsa.sign(d))
ms.pqVerify = rate('ML-DSA-65 verify (verifyVoteSignature)', mustVerify('ml-dsa-65', mldsa, pqSigs))
ms.hybridSign = rate('hybrid sign (secp256k1 ‖ ML-DSA-65)', (d) => hybrid.sign(d))
ms.hybridVerify = rate('hybrid verify (recover + ML-DSA verify)', mustVerify('hybrid', hybrid, hybridSigs))

// --- certificates ----------------------------------------------------------------------------------
const HASH = keccak256(utf8('block'))
const keyCache = new Map<string, SchemeDigestKey>()
function keyOf(scheme: SignatureScheme, i: number): SchemeDigestKey {
  const id = `${scheme}/${i}`
  let k = keyCache.get(id)
  if (k === undefined) {
    k =
      scheme === 'hybrid'
        ? hybridDigestKey({ secpKey: rawDigestKey(secpOf(i)), pqSeed: seedOf(i) })
        : scheme === 'ml-dsa-65'
          ? mlDsaDigestKey({ pqSeed: seedOf(i) })
          : { ...rawDigestKey(secpOf(i)), scheme: 'secp256k1', pqPublicKey: null }
    keyCache.set(id, k)
  }
  return k
}

console.log(`--- commit certificate per block (2N/3 + 1 signatures), block interval ${BLOCK_INTERVAL_MS} ms`)
console.log(
  `${'scheme'.padEnd(10)} ${'N'.padStart(4)} ${'sigs'.padStart(5)} ${'cert B'.padStart(8)} ${'extra B'.padStart(8)} ` +
    `${'MB/day'.padStart(8)} ${'GB/year'.padStart(8)} ${'LC verify ms'.padStart(13)}`,
)
const schemes: SignatureScheme[] = ['secp256k1', 'ml-dsa-65', 'hybrid']
const blocksPerDay = (86_400 * 1000) / BLOCK_INTERVAL_MS
for (const n of [4, 7, 21, 100]) {
  const q = Math.floor((2 * n) / 3) + 1
  for (const scheme of schemes) {
    const keys = Array.from({ length: n }, (_, i) => keyOf(scheme, i))
    const set = ValidatorSet.create(keys.map((k) => ({ address: k.address, votingPower: 1n })))
    const pqByAddress = new Map(keys.map((k) => [Buffer.from(k.address).toString('hex'), k.pqPublicKey]))
    const digest = voteDigest(CHAIN_ID, { type: MsgType.PRECOMMIT, height: 1_000_000, round: 0, blockHash: HASH })
    const byIndex = (i: number) => keys.find((k) => Buffer.from(k.address).equals(Buffer.from(set.at(i)!.address)))!
    const cert: CommitCertificate = {
      height: 1_000_000,
      round: 0,
      blockHash: HASH,
      signatures: Array.from({ length: q }, (_, i) => ({ validatorIndex: i, signature: byIndex(i).sign(digest) })),
    }
    const certBytes = encodeCertificate(cert).length
    const extraBytes = encodeBftExtra({ round: 0, parentCertificate: cert }).length
    const t = performance.now()
    verifySchemeCertificate(cert, scheme, set, (a) => pqByAddress.get(Buffer.from(a).toString('hex')) ?? null, CHAIN_ID)
    const verifyMs = performance.now() - t
    console.log(
      `${scheme.padEnd(10)} ${n.toString().padStart(4)} ${q.toString().padStart(5)} ${certBytes.toString().padStart(8)} ` +
        `${extraBytes.toString().padStart(8)} ${((extraBytes * blocksPerDay) / 1e6).toFixed(1).padStart(8)} ` +
        `${((extraBytes * blocksPerDay * 365) / 1e9).toFixed(2).padStart(8)} ${verifyMs.toFixed(1).padStart(13)}`,
    )
  }
}

// --- gossip and CPU per height ---------------------------------------------------------------------
console.log('--- one vote on the wire, and the signature CPU of one height for N = 4 (per node, one core)')
for (const [scheme, sig] of [
  ['secp256k1', secpSigs[0]!],
  ['ml-dsa-65', pqSigs[0]!],
  ['hybrid', hybridSigs[0]!],
] as const) {
  const vote = { type: MsgType.PREVOTE, height: 1_000_000, round: 0, blockHash: HASH, signature: sig }
  const wire = encodeWire({ kind: 'vote', vote }, 123456).length
  const [sign, verify] =
    scheme === 'secp256k1'
      ? [ms.secpSign!, ms.secpVerify!]
      : scheme === 'ml-dsa-65'
        ? [ms.pqSign!, ms.pqVerify!]
        : [ms.hybridSign!, ms.hybridVerify!]
  // A validator signs 2 votes (+ a proposal 1 height in 4) and verifies the 2 × 4 votes and the
  // proposal of a height, and the parent certificate in the header (3 signatures) once more.
  const cpuMs = (2.25 * sign + (2 * 4 + 1 + 3) * verify).toFixed(1)
  console.log(
    `${scheme.padEnd(10)} vote message ${wire.toString().padStart(5)} B   signature CPU per height ${cpuMs} ms`,
  )
}
