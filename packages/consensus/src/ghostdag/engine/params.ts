/**
 * A GhostDAG chain's parameters, from its genesis: `config.cairn.ghostdag` for the DAG and
 * `config.cairn.pow` for the seal, the targets and the block reward (the PoW engine's parser; its
 * `spacing`/`halfLife` are not used: the DAG's difficulty counts in milliseconds).
 *
 * ```json
 * "config": { "cairn": {
 *   "pow": { "powLimit": "0x2000ffff", "genesisBits": "0x2000ffff", "seal": { "memoryKiB": 64, "iterations": 1 } },
 *   "ghostdag": { "k": 18, "maxParents": 10, "mergesetSizeLimit": 180, "targetBlockMs": 1000, "halfLifeMs": 60000 }
 * } }
 * ```
 */
import { CairnError } from '@cairn/utils'
import { z } from 'zod'
import { type PowChainParams, parsePowConfig } from '../../pow/params.ts'
import { GhostdagErrorCode } from '../errors.ts'
import { kaspaLimits } from '../params.ts'

export interface GhostdagChainParams {
  pow: PowChainParams
  k: number
  maxParents: number
  mergesetSizeLimit: number
  /** The target time between blocks (any block), ms. */
  targetBlockMs: bigint
  /** ASERT's half-life on the DAA score, ms. */
  halfLifeMs: bigint
}

export const ghostdagConfigSchema = z
  .object({
    k: z.number().int().min(1).max(0xffff).default(18),
    maxParents: z.number().int().min(1).max(64).optional(),
    mergesetSizeLimit: z.number().int().min(1).max(10_000).optional(),
    targetBlockMs: z.number().int().min(10).max(3_600_000).default(1000),
    halfLifeMs: z
      .number()
      .int()
      .min(1000)
      .max(2 ** 40)
      .optional(),
  })
  .strict()

/** Whether a genesis is a GhostDAG chain's (`config.cairn.ghostdag`). */
export function isGhostdagGenesis(genesis: unknown): boolean {
  return (genesis as { config?: { cairn?: { ghostdag?: unknown } } } | undefined)?.config?.cairn?.ghostdag !== undefined
}

/**
 * The chain's parameters; Kaspa's derived limits (`kaspaLimits(k)`) where the genesis names none,
 * and a half-life of 300 target spacings.
 * @throws CairnError `CONSENSUS_GHOSTDAG_INVALID_DAG` naming the field, or the PoW parser's errors
 */
export function parseGhostdagConfig(genesis: unknown): GhostdagChainParams {
  const raw = (genesis as { config?: { cairn?: { ghostdag?: unknown } } } | undefined)?.config?.cairn?.ghostdag ?? {}
  const parsed = ghostdagConfigSchema.safeParse(raw)
  if (!parsed.success) {
    throw new CairnError(
      GhostdagErrorCode.INVALID_DAG,
      `config.cairn.ghostdag: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      { fault: 'caller', hint: 'docs/consensus/ghostdag.md lists the parameters and their defaults' },
    )
  }
  const c = parsed.data
  const limits = kaspaLimits(c.k)
  return {
    pow: parsePowConfig(genesis),
    k: c.k,
    maxParents: c.maxParents ?? limits.maxParents,
    mergesetSizeLimit: c.mergesetSizeLimit ?? limits.mergesetSizeLimit,
    targetBlockMs: BigInt(c.targetBlockMs),
    halfLifeMs: BigInt(c.halfLifeMs ?? c.targetBlockMs * 300),
  }
}

/** The parameters back in genesis form (`config.cairn.ghostdag`). */
export function ghostdagConfigJson(p: GhostdagChainParams): Record<string, unknown> {
  return {
    k: p.k,
    maxParents: p.maxParents,
    mergesetSizeLimit: p.mergesetSizeLimit,
    targetBlockMs: Number(p.targetBlockMs),
    halfLifeMs: Number(p.halfLifeMs),
  }
}
