/**
 * A proof-of-work chain's parameters, from its genesis (`config.cairn.pow`), with the defaults
 * docs/consensus/pow.md explains: the difficulty rule's (ASERT: spacing, half-life, pow limit,
 * the genesis target) and the seal's (Argon2id memory and passes). ASERT is anchored at the
 * genesis: block 1 on schedule (one spacing after the genesis) gets the genesis target.
 *
 * ```json
 * "config": { "cairn": { "pow": {
 *   "spacing": 12, "halfLife": 3456, "powLimit": "0x2000ffff", "genesisBits": "0x1f100000",
 *   "blockReward": "2000000000000000000", "seal": { "memoryKiB": 1024, "iterations": 1 }
 * } } }
 * ```
 */
import { CairnError } from '@cairn/utils'
import { z } from 'zod'
import type { AsertAnchor, AsertParams } from './asert.ts'
import { bitsFromTarget, formatBits, parseBits, targetFromBits } from './compact-bits.ts'
import { PowErrorCode } from './errors.ts'
import { checkSealParams, DEFAULT_SEAL_PARAMS, SEAL_PARAM_BOUNDS, type SealParams } from './seal.ts'

/** What a proof-of-work engine (and GhostDAG's) needs from the genesis. */
export interface PowChainParams {
  asert: AsertParams
  /** The genesis block's compact target: ASERT's anchor target. */
  genesisBits: number
  seal: SealParams
  /** Wei paid to a block's coinbase on top of its fees (default {@link DEFAULT_BLOCK_REWARD}). */
  blockReward?: bigint
  /**
   * The fork-schedule entry that ends proof of work: from `height` on the chain runs `engine`
   * (docs/consensus/pow.md, "PoW → PoS"); a proof-of-work block there is refused.
   */
  transition?: PowTransition
}

/** Where proof of work ends, and what follows it. */
export interface PowTransition {
  /** The first block that is not mined (its parent, `height − 1`, is the last proof-of-work block). */
  height: bigint
  engine: 'bft'
}

/** The block reward when the genesis names none: 2 ether, the proof-of-work ruleset's since Constantinople. */
export const DEFAULT_BLOCK_REWARD = 2n * 10n ** 18n

/**
 * The defaults: 12 s blocks; a half-life of 288 blocks (3,456 s), Bitcoin Cash's ratio; a genesis
 * target of 4,096 attempts a block (0x1f100000: about 12 s of one thread at 1 MiB); a pow limit
 * of 256 attempts (0x2000ffff), below which a vanishing hash rate cannot drive the work.
 */
export const DEFAULT_POW_CONFIG = Object.freeze({
  spacing: 12,
  halfLife: 3456,
  powLimit: '0x2000ffff',
  genesisBits: '0x1f100000',
  blockReward: DEFAULT_BLOCK_REWARD.toString(),
  seal: DEFAULT_SEAL_PARAMS,
})

const bits = z.string().regex(/^0x[0-9a-fA-F]{1,8}$/, 'compact bits, 0x and up to 8 hex digits (e.g. 0x1f100000)')
const seconds = z
  .number()
  .int()
  .min(1)
  .max(2 ** 32)

export const powConfigSchema = z
  .object({
    spacing: seconds.default(DEFAULT_POW_CONFIG.spacing),
    halfLife: seconds.default(DEFAULT_POW_CONFIG.halfLife),
    powLimit: bits.default(DEFAULT_POW_CONFIG.powLimit),
    genesisBits: bits.default(DEFAULT_POW_CONFIG.genesisBits),
    blockReward: z
      .string()
      .regex(/^(0x[0-9a-fA-F]{1,64}|[0-9]{1,78})$/, 'wei as a decimal or 0x string (e.g. "2000000000000000000")')
      .refine((v) => !/^[0-9]+$/.test(v) || BigInt(v) < 2n ** 256n, 'at most 2^256 − 1 wei')
      .default(DEFAULT_POW_CONFIG.blockReward),
    seal: z
      .object({
        memoryKiB: z.number().int().min(SEAL_PARAM_BOUNDS.minMemoryKiB).max(SEAL_PARAM_BOUNDS.maxMemoryKiB),
        iterations: z.number().int().min(1).max(SEAL_PARAM_BOUNDS.maxIterations),
      })
      .strict()
      .default({ ...DEFAULT_SEAL_PARAMS }),
    transition: z
      .object({ height: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER), engine: z.literal('bft') })
      .strict()
      .optional(),
  })
  .strict()

/**
 * The chain's parameters from `config.cairn.pow` of a genesis (every field optional: the defaults).
 * @throws CairnError `CONSENSUS_POW_INVALID_PARAMS` naming the field, or `CONSENSUS_POW_INVALID_BITS`
 */
export function parsePowConfig(genesis: unknown): PowChainParams {
  const raw = (genesis as { config?: { cairn?: { pow?: unknown } } } | undefined)?.config?.cairn?.pow ?? {}
  const parsed = powConfigSchema.safeParse(raw)
  if (!parsed.success) {
    throw new CairnError(
      PowErrorCode.INVALID_PARAMS,
      `config.cairn.pow: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      { fault: 'caller', hint: 'docs/consensus/pow.md lists the parameters and their defaults' },
    )
  }
  const c = parsed.data
  const powLimit = targetFromBits(parseBits(c.powLimit, 'config.cairn.pow.powLimit'))
  const genesisBits = parseBits(c.genesisBits, 'config.cairn.pow.genesisBits')
  targetFromBits(genesisBits, powLimit)
  checkSealParams(c.seal)
  return {
    asert: { spacing: BigInt(c.spacing), halfLife: BigInt(c.halfLife), powLimit },
    genesisBits,
    seal: { ...c.seal },
    blockReward: BigInt(c.blockReward),
    ...(c.transition ? { transition: { height: BigInt(c.transition.height), engine: c.transition.engine } } : {}),
  }
}

/** ASERT's anchor for a chain anchored at its genesis (height, timestamp). */
export function genesisAnchor(params: PowChainParams, genesis: { number: bigint; timestamp: bigint }): AsertAnchor {
  return { height: genesis.number, parentTime: genesis.timestamp - params.asert.spacing, bits: params.genesisBits }
}

/** The parameters back in genesis form (what `cairn devnet init --engine pow` would write). */
export function powConfigJson(params: PowChainParams): Record<string, unknown> {
  return {
    spacing: Number(params.asert.spacing),
    halfLife: Number(params.asert.halfLife),
    powLimit: formatBits(bitsFromTarget(params.asert.powLimit)),
    genesisBits: formatBits(params.genesisBits),
    ...(params.blockReward !== undefined ? { blockReward: params.blockReward.toString() } : {}),
    seal: { ...params.seal },
    ...(params.transition
      ? { transition: { height: Number(params.transition.height), engine: params.transition.engine } }
      : {}),
  }
}
