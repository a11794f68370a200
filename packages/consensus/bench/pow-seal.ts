// The proof-of-work seal's cost (issue 68): header verifications per second (`verifySeal`: one
// Argon2id of the seal hash and nonce) at several memory sizes, with hash-wasm (WebAssembly, what
// the seal uses) and @noble/hashes (pure JS, for comparison); wall and CPU time per verification;
// whether the default parameters verify within the 10 ms. One thread, in-process; prints
// the node version and the load average (on a shared machine, wall times follow the load: CPU
// time is the figure to compare). Mining costs the same per attempt (the seal is symmetric).
//   node --import tsx packages/consensus/bench/pow-seal.ts [N=40] [KiB list=256,1024,2048,4096,8192]
import { loadavg } from 'node:os'
import { jsArgon2id } from '@cairn/crypto'
import { createBlockHeader } from '@ethereumjs/block'
import { Common, Hardfork, Mainnet } from '@ethereumjs/common'
import { TWO_256 } from '../src/pow/compact-bits.ts'
import {
  DEFAULT_SEAL_PARAMS,
  SEAL_SALT,
  type SealParams,
  sealHash,
  trySeal,
  verifySeal,
  withSeal,
} from '../src/pow/seal.ts'
import { workOf } from '../src/pow/work.ts'

const N = Number(process.argv[2] ?? 40)
const SIZES = (process.argv[3] ?? '256,1024,2048,4096,8192').split(',').map(Number)
const TARGET = TWO_256 - 1n
const common = new Common({ chain: Mainnet, hardfork: Hardfork.London })
const header = createBlockHeader(
  { number: 1n, gasLimit: 30_000_000n, timestamp: 1_700_000_000n, baseFeePerGas: 7n, difficulty: workOf(TARGET) },
  { common },
)

interface Figure {
  perSecond: number
  /** The fastest tenth: what a verification costs when this thread is not preempted. */
  wallP10: number
  wallMedian: number
  wallP90: number
  cpuMean: number
}

async function measure(n: number, once: () => unknown): Promise<Figure> {
  await once() // warm: the WebAssembly module compiles on first use
  const walls: number[] = []
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  for (let i = 0; i < n; i++) {
    const t = performance.now()
    await once()
    walls.push(performance.now() - t)
  }
  const total = performance.now() - t0
  const cpu = process.cpuUsage(cpu0)
  walls.sort((a, b) => a - b)
  return {
    perSecond: (n * 1000) / total,
    wallP10: walls[Math.floor(n / 10)]!,
    wallMedian: walls[Math.floor(n / 2)]!,
    wallP90: walls[Math.floor(n * 0.9)]!,
    cpuMean: (cpu.user + cpu.system) / 1000 / n,
  }
}

const row = (name: string, f: Figure) =>
  `${name.padEnd(28)} ${f.perSecond.toFixed(1).padStart(8)}/s  wall p10 ${f.wallP10.toFixed(2).padStart(7)} ms  p50 ${f.wallMedian.toFixed(2).padStart(7)} ms  p90 ${f.wallP90.toFixed(2).padStart(7)} ms  cpu ${f.cpuMean.toFixed(2).padStart(7)} ms`

console.log(
  `node ${process.version}, load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}, N=${N}`,
)
console.log('@node-rs/argon2: not installed in this tree (not measured)')
for (const memoryKiB of SIZES) {
  const params: SealParams = { memoryKiB, iterations: 1 }
  const seal = await trySeal(header, 0n, params, TARGET)
  const sealed = withSeal(header, seal!)
  const wasm = await measure(N, () => verifySeal(sealed, params, TARGET))
  console.log(row(`verifySeal ${memoryKiB / 1024} MiB (hash-wasm)`, wasm))
  if (memoryKiB <= 2048) {
    const password = new Uint8Array([...sealHash(header), ...seal!.nonce])
    const js = await measure(Math.max(3, Math.floor(N / 8)), () => jsArgon2id(password, SEAL_SALT, params))
    console.log(row(`argon2id ${memoryKiB / 1024} MiB (@noble, JS)`, js))
  }
  if (memoryKiB === DEFAULT_SEAL_PARAMS.memoryKiB) {
    const ok = wasm.cpuMean <= 10
    console.log(
      `  default (${memoryKiB} KiB, 1 pass): ${wasm.cpuMean.toFixed(2)} ms of CPU per header: ${ok ? 'within' : 'OVER'} the 10 ms bound`,
    )
  }
}
