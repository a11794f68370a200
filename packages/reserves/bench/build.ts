// Reserves build benchmark: node --import tsx packages/reserves/bench/build.ts [users] [currencies]
// Prints figures; asserts nothing (the machine is shared).
import { initCrypto } from '@cairn/crypto'
import { buildTree, type LiabilityEntry } from '../src/tree/build.ts'
import { proofFor } from '../src/tree/proof.ts'
import { verifyProof } from '../src/verifier/index.ts'

const users = Number(process.argv[2] ?? 1_000_000)
const k = Number(process.argv[3] ?? 3)
const currencies = Array.from({ length: k }, (_, i) => ({ symbol: `C${i}`, decimals: 8 }))
const entries: LiabilityEntry[] = Array.from({ length: users }, (_, i) => ({
  userId: `user-${i}@example.com`,
  balances: Array.from({ length: k }, (_, c) => BigInt((i * 7919 + c * 104729) % 1_000_000_000)),
}))
await initCrypto()
for (const hash of ['sha256', 'keccak256'] as const) {
  const t0 = performance.now()
  const tree = buildTree(entries, { hash, currencies, minDepth: 0 })
  const ms = performance.now() - t0
  const proof = proofFor(tree, 'bench', 'user-12345@example.com')
  const size = Buffer.byteLength(JSON.stringify(proof))
  const n = 20_000
  const t1 = performance.now()
  for (let i = 0; i < n; i++) proofFor(tree, 'bench', `user-${(i * 48271) % users}@example.com`)
  const proofsPerS = n / ((performance.now() - t1) / 1000)
  const t2 = performance.now()
  for (let i = 0; i < 500; i++) verifyProof(proof)
  const verifyMs = (performance.now() - t2) / 500
  process.stdout.write(
    `${hash}: ${users} users x ${k} currencies, depth ${tree.depth}: build ${(ms / 1000).toFixed(2)} s; ` +
      `proof ${size} bytes; ${Math.round(proofsPerS)} proofs/s (in memory); verify ${verifyMs.toFixed(2)} ms (pure JS); ` +
      `rss ${Math.round(process.memoryUsage().rss / 2 ** 20)} MiB\n`,
  )
}
