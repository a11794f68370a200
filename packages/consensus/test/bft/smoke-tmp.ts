import { initCrypto } from "@cairn/crypto"; await initCrypto();
import { runSeeds } from '/work/wt-bft/packages/consensus/test/bft/sim/run.ts'
const first = Number(process.argv[2] ?? 0), count = Number(process.argv[3] ?? 20)
const t = performance.now()
const s = runSeeds(first, count, (r, sc) => { if (r.violations.length) console.log(r.seed, sc.n, sc.behaviours.join(','), r.violations.slice(0,3)) })
console.log({ ...s, failures: s.failures.length, ms: Math.round(performance.now() - t) })
