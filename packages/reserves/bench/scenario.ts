// One reserves benchmark scenario in its own process (so peak RSS is its own); prints one JSON line.
//   node --import tsx packages/reserves/bench/scenario.ts memory USERS CURRENCIES HASH WORKERS
//   node --import tsx packages/reserves/bench/scenario.ts dir CSV_FILE OUT_DIR HASH
import { rmSync } from 'node:fs'
import { initCrypto } from '@cairn/crypto'
import { buildTree, buildTreeParallel, type LiabilityEntry } from '../src/tree/build.ts'
import { proofFor } from '../src/tree/proof.ts'
import { buildTreeDir } from '../src/tree-dir/build.ts'
import { proofFromTreeDir } from '../src/tree-dir/proof.ts'
import type { HashName } from '../src/verifier/hash.ts'
import { verifyProof } from '../src/verifier/index.ts'

const [mode, a, b, hashArg, workersArg] = process.argv.slice(2)
const hash = (hashArg ?? 'sha256') as HashName
await initCrypto()
const cpu = () => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1e6
}
const peakMiB = () => Math.round(process.resourceUsage().maxRSS / 1024)

if (mode === 'memory') {
  const users = Number(a ?? 1_000_000)
  const k = Number(b ?? 3)
  const workers = Number(workersArg ?? 2)
  const currencies = Array.from({ length: k }, (_, i) => ({ symbol: `C${i}`, decimals: 8 }))
  const entries: LiabilityEntry[] = Array.from({ length: users }, (_, i) => ({
    userId: `user-${i}@example.com`,
    balances: Array.from({ length: k }, (_, c) => BigInt((i * 7919 + c * 104729) % 1_000_000_000)),
  }))
  const c0 = cpu()
  const t0 = performance.now()
  const tree =
    workers > 1
      ? await buildTreeParallel(entries, { hash, currencies, workers })
      : buildTree(entries, { hash, currencies })
  const seconds = (performance.now() - t0) / 1000
  const cpuSeconds = cpu() - c0
  const proof = proofFor(tree, 'bench', 'user-12345@example.com')
  if (!verifyProof(proof).ok) throw new Error('bench proof does not verify')
  const n = 20_000
  const t1 = performance.now()
  for (let i = 0; i < n; i++) proofFor(tree, 'bench', `user-${(i * 48271) % users}@example.com`)
  const proofsPerSecond = n / ((performance.now() - t1) / 1000)
  process.stdout.write(
    `${JSON.stringify({ mode, users, k, hash, workers, depth: tree.depth, seconds, cpuSeconds, peakMiB: peakMiB(), proofBytes: Buffer.byteLength(JSON.stringify(proof)), proofsPerSecond })}\n`,
  )
} else if (mode === 'dir') {
  const file = a as string
  const out = b as string
  rmSync(out, { recursive: true, force: true })
  const marks: Record<string, number> = {}
  const c0 = cpu()
  const t0 = performance.now()
  const meta = await buildTreeDir(file, out, {
    hash,
    snapshotId: 'bench',
    minDepth: 0,
    onPhase: (p) => {
      marks[p] = (performance.now() - t0) / 1000
    },
  })
  const seconds = (performance.now() - t0) / 1000
  const cpuSeconds = cpu() - c0
  const t1 = performance.now()
  const proof = proofFromTreeDir(out, 'user-1234567@example.com')
  const proofMs = performance.now() - t1
  if (!verifyProof(proof).ok) throw new Error('bench proof does not verify')
  rmSync(out, { recursive: true, force: true })
  process.stdout.write(
    `${JSON.stringify({ mode, users: meta.userCount, hash, depth: meta.depth, seconds, cpuSeconds, marks, peakMiB: peakMiB(), proofBytes: Buffer.byteLength(JSON.stringify(proof)), proofMs })}\n`,
  )
} else {
  process.stderr.write('usage: scenario.ts memory USERS CURRENCIES HASH WORKERS | dir CSV OUT HASH\n')
  process.exit(2)
}
