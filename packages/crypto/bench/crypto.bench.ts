/**
 * Micro-benchmarks of the crypto backends. Run from the repo root:
 *
 *   node --import tsx packages/crypto/bench/crypto.bench.ts
 *
 * Prints ops/s for ecrecover (native libsecp256k1 vs @noble/curves), ecdsaSign, and keccak256
 * (hash-wasm vs @noble/hashes) on 32- and 256-byte inputs.
 */
import { randomBytes } from 'node:crypto'
import {
  cryptoBackends,
  initCrypto,
  jsKeccak256,
  jsSecp256k1,
  nativeSecp256k1,
  type Secp256k1Backend,
  wasmKeccak256,
} from '../src/index.ts'

interface Row {
  op: string
  impl: string
  opsPerSec: number
}

/** Runs `fn` repeatedly for ~`ms` after a warm-up and returns ops/s (best of 3 rounds). */
function measure(fn: (i: number) => void, ms = 400): number {
  for (let i = 0; i < 200; i++) fn(i)
  let best = 0
  for (let round = 0; round < 3; round++) {
    let n = 0
    const start = performance.now()
    let elapsed = 0
    while (elapsed < ms) {
      for (let k = 0; k < 50; k++) fn(n++)
      elapsed = performance.now() - start
    }
    best = Math.max(best, (n / elapsed) * 1000)
  }
  return best
}

const rows: Row[] = []
await initCrypto()

// ecrecover / sign inputs: 64 distinct (hash, signature) pairs.
const inputs = Array.from({ length: 64 }, () => {
  const hash = new Uint8Array(randomBytes(32))
  const pk = new Uint8Array(randomBytes(32))
  const sig = jsSecp256k1.ecdsaSign(hash, pk)
  return { hash, pk, sig64: new Uint8Array([...sig.r, ...sig.s]), recovery: sig.recovery }
})
const secpBackends: Secp256k1Backend[] = nativeSecp256k1 === null ? [jsSecp256k1] : [nativeSecp256k1, jsSecp256k1]
for (const b of secpBackends) {
  rows.push({
    op: 'ecrecover',
    impl: b.name,
    opsPerSec: measure((i) => {
      const x = inputs[i & 63] as (typeof inputs)[number]
      b.ecdsaRecover(x.sig64, x.recovery, x.hash)
    }),
  })
}
for (const b of secpBackends) {
  rows.push({
    op: 'ecdsaSign',
    impl: b.name,
    opsPerSec: measure((i) => {
      const x = inputs[i & 63] as (typeof inputs)[number]
      b.ecdsaSign(x.hash, x.pk)
    }),
  })
}

for (const size of [32, 256]) {
  const data = Array.from({ length: 64 }, () => new Uint8Array(randomBytes(size)))
  for (const [impl, fn] of [
    ['wasm', wasmKeccak256],
    ['js', jsKeccak256],
  ] as const) {
    rows.push({ op: `keccak256 ${size} B`, impl, opsPerSec: measure((i) => fn(data[i & 63] as Uint8Array)) })
  }
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US')
const b = cryptoBackends()
console.log(
  `@cairn/crypto bench — node ${process.version} ${process.platform}-${process.arch}; default backends: secp256k1=${b.secp256k1}, keccak=${b.keccak}`,
)
console.log('')
console.log(`${'operation'.padEnd(18)} ${'impl'.padEnd(7)} ${'ops/s'.padStart(12)} ${'vs js'.padStart(7)}`)
console.log(`${'-'.repeat(18)} ${'-'.repeat(7)} ${'-'.repeat(12)} ${'-'.repeat(7)}`)
for (const row of rows) {
  const js = rows.find((r) => r.op === row.op && r.impl === 'js')
  const ratio = js === undefined ? '' : `${(row.opsPerSec / js.opsPerSec).toFixed(1)}x`
  console.log(`${row.op.padEnd(18)} ${row.impl.padEnd(7)} ${fmt(row.opsPerSec).padStart(12)} ${ratio.padStart(7)}`)
}
