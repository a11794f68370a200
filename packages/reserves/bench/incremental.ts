// Incremental snapshot builds against full builds (issue 53's target: ≥ 5× faster at 1% changed).
//   node --import tsx packages/reserves/bench/incremental.ts [users=1000000] [changedPercent=1] [runs=3] [hash=sha256]
// One process: the base tree is built once; then, per run, a full build of the next snapshot (one
// thread, then with worker threads) and updateTree from the base with the same changes (80%
// balance changes, 10% new users, 10% removed users), wall time and this process's CPU time.
// "in place" updates a copy of the base's levels in place (made before the clock starts), as a
// service does with the tree it has just loaded to build the next one.
import { buildTree, buildTreeParallel, type LiabilityEntry } from '../src/tree/build.ts'
import { rootOf } from '../src/tree/proof.ts'
import { type BalanceChange, diffEntries, updateTree } from '../src/tree/update.ts'
import type { HashName } from '../src/verifier/hash.ts'

const [usersArg = '1000000', pctArg = '1', runsArg = '3', hashArg = 'sha256'] = process.argv.slice(2)
const users = Number(usersArg)
const changed = Math.round((users * Number(pctArg)) / 100)
const runs = Number(runsArg)
const hash = hashArg as HashName
const currencies = [
  { symbol: 'BTC', decimals: 8 },
  { symbol: 'ETH', decimals: 18 },
  { symbol: 'USDT', decimals: 6 },
]

const base: LiabilityEntry[] = Array.from({ length: users }, (_, i) => ({
  userId: `user-${i}@example.com`,
  balances: [BigInt(i % 1000), BigInt(i * 7), 1_000_000n + BigInt(i)],
}))
const baseTree = buildTree(base, { hash, currencies })

function changesFor(run: number): { changes: BalanceChange[]; next: LiabilityEntry[] } {
  const changes: BalanceChange[] = []
  const nAdd = Math.round(changed / 10)
  const nRemove = Math.round(changed / 10)
  const nSet = changed - nAdd - nRemove
  const stride = Math.floor(users / changed)
  const next = base.slice()
  const removed = new Set<number>()
  for (let j = 0; j < nSet + nRemove; j++) {
    const i = (j * stride + run) % users
    const e = base[i] as LiabilityEntry
    if (j < nSet) {
      const balances = [(e.balances[0] as bigint) + 1n, e.balances[1] as bigint, e.balances[2] as bigint]
      changes.push({ userId: e.userId, balances })
      next[i] = { userId: e.userId, balances }
    } else {
      changes.push({ userId: e.userId, remove: true })
      removed.add(i)
    }
  }
  const kept = next.filter((_, i) => !removed.has(i))
  for (let j = 0; j < nAdd; j++) {
    const e = { userId: `new-${run}-${j}@example.com`, balances: [1n, 2n, 3n] }
    changes.push(e)
    kept.push(e)
  }
  return { changes, next: kept }
}

async function timed<T>(f: () => T | Promise<T>): Promise<{ value: T; wall: number; cpu: number }> {
  const c0 = process.cpuUsage()
  const t0 = performance.now()
  const value = await f()
  const wall = (performance.now() - t0) / 1000
  const c = process.cpuUsage(c0)
  return { value, wall, cpu: (c.user + c.system) / 1e6 }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number
const rows: Record<string, { wall: number[]; cpu: number[] }> = {}
const record = (name: string, t: { wall: number; cpu: number }) => {
  rows[name] ??= { wall: [], cpu: [] }
  rows[name].wall.push(t.wall)
  rows[name].cpu.push(t.cpu)
}

for (let run = 0; run < runs; run++) {
  const { changes, next } = changesFor(run)
  const full1 = await timed(() => buildTree(next, { hash, currencies }))
  record('full build, 1 thread', full1)
  const full2 = await timed(() => buildTreeParallel(next, { hash, currencies }))
  record('full build, worker threads', full2)
  const inc = await timed(() => updateTree(baseTree, changes))
  record(`updateTree, ${changed} changes`, inc)
  const scratch = updateTree(baseTree, []).tree
  const inPlace = await timed(() => updateTree(scratch, changes, { inPlace: true }))
  record(`updateTree in place, ${changed} changes`, inPlace)
  const diff = await timed(() => updateTree(baseTree, diffEntries(baseTree, next)))
  record('diffEntries + updateTree (whole new file)', diff)
  const a = rootOf(full1.value).balances
  const b = rootOf(inc.value.tree).balances
  if (a.join() !== b.join()) throw new Error(`root sums differ: full ${a} incremental ${b}`)
  if (run === 0)
    process.stdout.write(
      `${users} users × 3, ${hash}, ${changed} changed (${inc.value.changed} set, ${inc.value.added} added, ${inc.value.removed} removed): ${inc.value.hashed} nodes hashed of ${2 ** (baseTree.depth + 1) - 1}\n`,
    )
}

const fullWall = median(rows['full build, 1 thread']?.wall ?? [])
process.stdout.write(
  `\n| build | wall s (median of ${runs}) | cpu s | full 1-thread wall ÷ this |\n|---|---|---|---|\n`,
)
for (const [name, r] of Object.entries(rows))
  process.stdout.write(
    `| ${name} | ${median(r.wall).toFixed(3)} | ${median(r.cpu).toFixed(3)} | ${(fullWall / median(r.wall)).toFixed(1)}× |\n`,
  )
