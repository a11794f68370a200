/**
 * The BFT engine's settings, from the genesis (`config.cairn.bft`): the validator set with voting
 * power, the round timeouts, the block time and whether to make empty blocks. Every node of a chain
 * reads the same genesis, so they agree on the set of height 1 and on the rules.
 */
import { CairnError, hexToBytes } from '@cairn/utils'
import { z } from 'zod'
import { ConsensusErrorCode } from '../errors.ts'
import { genesisStakingSet } from '../staking/genesis-staking.ts'
import type { Address } from './messages.ts'
import { DEFAULT_TIMEOUTS, type TimeoutConfig } from './timeouts.ts'

export interface BftConfig {
  validators: { address: Address; votingPower: bigint }[]
  timeouts: TimeoutConfig
  /**
   * The block time (ms): heights start this far apart (the wait after a commit is what is left of
   * it since the committed height's first round began), or at once when a height took longer.
   */
  blockTimeMs: number
  /** False: a height waits for transactions before its first round (no empty blocks). */
  emptyBlocks: boolean
  /**
   * Dev/test only: validator-set changes the genesis schedules, by height of effect (≥ 3). Every
   * node of the chain reads the same genesis, so they agree. Staking replaces this.
   */
  validatorChanges?: Map<number, { address: Address; votingPower: bigint }[]>
  /**
   * Proof of stake: the set of height 1 and every later set come from the staking system contract
   * in the genesis state (`validators` is then the set `resolveBftConfig` read from it).
   */
  staking?: boolean
}

const ms = z.number().int().min(0).max(3_600_000)
const power = z
  .union([z.number().int().positive(), z.string().regex(/^(0x[0-9a-fA-F]+|[0-9]+)$/)])
  .transform((v) => BigInt(v))

export const bftConfigSchema = z
  .object({
    validators: z
      .array(
        z
          .object({
            address: z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'a 20-byte hex address'),
            power: power.default(1n),
          })
          .strict(),
      )
      .min(1)
      .optional(),
    /** Proof of stake: the validators are bonded in the staking contract of the genesis alloc. */
    staking: z.boolean().optional(),
    timeouts: z
      .object({
        proposeMs: ms,
        proposeDeltaMs: ms,
        prevoteMs: ms,
        prevoteDeltaMs: ms,
        precommitMs: ms,
        precommitDeltaMs: ms,
      })
      .partial()
      .strict()
      .optional(),
    blockTimeMs: ms.default(1000),
    emptyBlocks: z.boolean().default(true),
    /** Dev/test: changes by height of effect, e.g. `[{ height: 10, address, power: 0 }]` (power 0 removes). */
    validatorChanges: z
      .array(
        z
          .object({
            height: z.number().int().min(3),
            address: z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'a 20-byte hex address'),
            power: z
              .union([z.number().int().min(0), z.string().regex(/^(0x[0-9a-fA-F]+|[0-9]+)$/)])
              .transform((v) => BigInt(v)),
          })
          .strict(),
      )
      .optional(),
  })
  .strict()

/**
 * The BFT settings of a genesis: `genesis.config.cairn.bft`.
 * @throws CairnError `CONSENSUS_BFT_INVALID_CONFIG` (fault 'caller') when absent or invalid
 */
export function parseBftConfig(genesis: unknown): BftConfig {
  const raw = (genesis as { config?: { cairn?: { bft?: unknown } } } | undefined)?.config?.cairn?.bft
  if (raw === undefined) {
    throw new CairnError(ConsensusErrorCode.BFT_INVALID_CONFIG, 'the genesis has no config.cairn.bft', {
      fault: 'caller',
      hint: 'the bft engine needs config.cairn.bft.validators in the genesis (docs/consensus/bft.md)',
    })
  }
  const parsed = bftConfigSchema.safeParse(raw)
  if (!parsed.success) {
    throw new CairnError(
      ConsensusErrorCode.BFT_INVALID_CONFIG,
      `config.cairn.bft: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      { fault: 'caller' },
    )
  }
  const c = parsed.data
  if (c.staking === true && c.validators !== undefined) {
    throw new CairnError(
      ConsensusErrorCode.BFT_INVALID_CONFIG,
      'config.cairn.bft has both `staking` and `validators`: with staking the validators are bonded in the staking contract',
      {
        fault: 'caller',
        hint: 'remove config.cairn.bft.validators (docs/consensus/staking.md), or `staking` for a fixed set',
      },
    )
  }
  if (c.staking !== true && c.validators === undefined) {
    throw new CairnError(
      ConsensusErrorCode.BFT_INVALID_CONFIG,
      'config.cairn.bft has neither `validators` nor `staking`',
      {
        fault: 'caller',
        hint: 'a fixed set: config.cairn.bft.validators; proof of stake: `staking: true` with the staking contract in alloc (`cairn devnet init` writes both kinds)',
      },
    )
  }
  if (c.staking === true && c.validatorChanges !== undefined) {
    throw new CairnError(
      ConsensusErrorCode.BFT_INVALID_CONFIG,
      'config.cairn.bft.validatorChanges cannot be used with staking: the staking contract decides the set',
      { fault: 'caller' },
    )
  }
  return {
    ...(c.staking === true ? { staking: true } : {}),
    validators: (c.validators ?? []).map((v) => ({
      address: hexToBytes(v.address as `0x${string}`),
      votingPower: v.power,
    })),
    timeouts: { ...DEFAULT_TIMEOUTS, ...c.timeouts, commitMs: c.blockTimeMs },
    blockTimeMs: c.blockTimeMs,
    emptyBlocks: c.emptyBlocks,
    ...(c.validatorChanges !== undefined && c.validatorChanges.length > 0
      ? { validatorChanges: groupChanges(c.validatorChanges) }
      : {}),
  }
}

function groupChanges(
  list: { height: number; address: string; power: bigint }[],
): Map<number, { address: Address; votingPower: bigint }[]> {
  const byHeight = new Map<number, { address: Address; votingPower: bigint }[]>()
  for (const c of list) {
    const at = byHeight.get(c.height) ?? []
    at.push({ address: hexToBytes(c.address as `0x${string}`), votingPower: c.power })
    byHeight.set(c.height, at)
  }
  return byHeight
}

/**
 * `parseBftConfig`, and for a staking genesis the set of height 1 read from its staking contract.
 * @throws CairnError `CONSENSUS_BFT_INVALID_CONFIG`, `CONSENSUS_STAKING_INVALID_GENESIS` (fault 'caller')
 */
export async function resolveBftConfig(genesis: unknown): Promise<BftConfig> {
  const config = parseBftConfig(genesis)
  if (config.staking !== true) return config
  return { ...config, validators: await genesisStakingSet(genesis) }
}
