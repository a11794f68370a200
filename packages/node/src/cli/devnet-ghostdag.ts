/**
 * `cairn devnet init --engine ghostdag --miners N --bps B --dir D`: a GhostDAG network of N mining
 * nodes on this machine, written as the proof-of-work devnet is (`devnet-pow.ts`: datadirs,
 * identity keys, one TOML each with every other node as a bootnode, the dev accounts funded) with
 * `engine = "ghostdag"` and the DAG's parameters in the genesis's `config.cairn.ghostdag`: a
 * target of B blocks a second (all miners together), K from the PHANTOM bound for B and Kaspa's
 * 5 s delay (`ghostdagK`), Kaspa's derived parent and mergeset limits, and a half-life of 60 target
 * spacings. The seal is PoW's Argon2id at its smallest memory (64 KiB) and the genesis target
 * the easiest (`powLimit`), so a few threads reach several blocks a second; the DAG's ASERT then
 * holds the rate at B.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { ghostdagK, KASPA_K_BOUND, kaspaLimits } from '@cairn/consensus/ghostdag'
import { initPowDevnet } from './devnet-pow.ts'

export interface GhostdagDevnetOptions {
  miners: number
  /** Target blocks a second, all miners together. */
  bps: number
  dir: string
  basePort: number
  p2pBasePort: number
  threads?: number
  /** K (default: the PHANTOM bound for `bps` and a 5 s delay). */
  k?: number
  gasLimit?: bigint
  timestamp?: number
  /** Argon2id memory per attempt, KiB (default 64, the least). */
  memoryKiB?: number
  /** The genesis target, compact (default the pow limit). */
  genesisBits?: string
  /** The easiest target, compact (default 0x2000ffff: 256 attempts a block). */
  powLimit?: string
}

/** Writes the devnet; returns the node config files. */
export function initGhostdagDevnet(opts: GhostdagDevnetOptions): string[] {
  if (!(opts.bps > 0 && opts.bps <= 100)) throw new RangeError('--bps must be in (0, 100]')
  const targetBlockMs = Math.max(10, Math.round(1000 / opts.bps))
  const files = initPowDevnet({
    miners: opts.miners,
    dir: opts.dir,
    basePort: opts.basePort,
    p2pBasePort: opts.p2pBasePort,
    threads: opts.threads ?? 1,
    pow: {
      memoryKiB: opts.memoryKiB ?? 64,
      genesisBits: opts.genesisBits ?? opts.powLimit ?? '0x2000ffff',
      powLimit: opts.powLimit ?? '0x2000ffff',
    },
    ...(opts.gasLimit !== undefined ? { gasLimit: opts.gasLimit } : {}),
    ...(opts.timestamp !== undefined ? { timestamp: opts.timestamp } : {}),
  })
  const k = opts.k ?? ghostdagK({ blocksPerSecond: opts.bps, ...KASPA_K_BOUND })
  const genesisPath = join(resolve(opts.dir), 'genesis.json')
  const genesis = JSON.parse(readFileSync(genesisPath, 'utf8')) as { config: { cairn: Record<string, unknown> } }
  genesis.config.cairn.ghostdag = { k, ...kaspaLimits(k), targetBlockMs, halfLifeMs: targetBlockMs * 60 }
  writeFileSync(genesisPath, `${JSON.stringify(genesis, null, 2)}\n`)
  for (const file of files) {
    writeFileSync(file, readFileSync(file, 'utf8').replace(/^engine = "pow"$/m, 'engine = "ghostdag"'))
  }
  return files
}
