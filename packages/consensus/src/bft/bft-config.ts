/**
 * The BFT engine's settings, from the genesis (`config.cairn.bft`): the validator set with voting
 * power, the round timeouts, the block time and whether to make empty blocks. Every node of a chain
 * reads the same genesis, so they agree on the set of height 1 and on the rules.
 */
import { CairnError, hexToBytes } from '@cairn/utils'
import { z } from 'zod'
import { ConsensusErrorCode } from '../errors.ts'
import { genesisStakingSet } from '../staking/genesis.ts'
import type { Address } from './messages.ts'
import { checkPqValidatorEntry, SIGNATURE_SCHEMES, type SignatureScheme } from './pq/scheme.ts'
import { DEFAULT_TIMEOUTS, type TimeoutConfig } from './timeouts.ts'

export interface BftConfig {
  /**
   * The consensus signature scheme (`config.cairn.bft.signatureScheme`, fixed at genesis; absent:
   * secp256k1). `hybrid` and `ml-dsa-65` need each validator's ML-DSA-65 key (under `ml-dsa-65` the
   * validator's address is `pqAddress` of it): in `validators` for a fixed set, in the staking
   * contract with staking (`Staking.pqPublicKeys`, read by `resolveBftConfig`).
   */
  signatureScheme?: SignatureScheme
  /** The set of height 1; under a PQ scheme each entry carries its ML-DSA-65 public key (1,952 bytes). */
  validators: { address: Address; votingPower: bigint; pqPublicKey?: Uint8Array }[]
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
            /** The ML-DSA-65 public key (hex, 1,952 bytes) under a PQ signature scheme. */
            pqPublicKey: z
              .string()
              .regex(/^0x([0-9a-fA-F]{2})+$/, 'hex bytes')
              .optional(),
          })
          .strict(),
      )
      .min(1)
      .optional(),
    /** Proof of stake: the validators are bonded in the staking contract of the genesis alloc. */
    staking: z.boolean().optional(),
    /** The consensus signature scheme (docs/consensus/post-quantum.md); default secp256k1. */
    signatureScheme: z.enum(SIGNATURE_SCHEMES as [SignatureScheme, ...SignatureScheme[]]).optional(),
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
  const scheme = checkScheme(c)
  const validators = (c.validators ?? []).map((v) => ({
    address: hexToBytes(v.address as `0x${string}`),
    votingPower: v.power,
    ...(v.pqPublicKey !== undefined ? { pqPublicKey: hexToBytes(v.pqPublicKey as `0x${string}`) } : {}),
  }))
  for (const v of validators) {
    try {
      checkPqValidatorEntry(scheme, { address: v.address, pqPublicKey: v.pqPublicKey ?? null })
    } catch (err) {
      throw new CairnError(ConsensusErrorCode.BFT_INVALID_CONFIG, `config.cairn.bft.validators: ${errorText(err)}`, {
        fault: 'caller',
        hint:
          scheme === 'ml-dsa-65'
            ? 'under ml-dsa-65 every validator needs pqPublicKey and its address is keccak256(pqPublicKey)[12:] (`cairn devnet init --signature-scheme ml-dsa-65` writes them)'
            : 'under hybrid every validator needs pqPublicKey (`cairn devnet init --signature-scheme hybrid` writes them)',
        cause: err,
      })
    }
  }
  return {
    ...(c.staking === true ? { staking: true } : {}),
    ...(scheme !== 'secp256k1' ? { signatureScheme: scheme } : {}),
    validators,
    timeouts: { ...DEFAULT_TIMEOUTS, ...c.timeouts, commitMs: c.blockTimeMs },
    blockTimeMs: c.blockTimeMs,
    emptyBlocks: c.emptyBlocks,
    ...(c.validatorChanges !== undefined && c.validatorChanges.length > 0
      ? { validatorChanges: groupChanges(c.validatorChanges) }
      : {}),
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

/**
 * The scheme of a parsed `config.cairn.bft`, refusing what this node cannot run: under a PQ scheme
 * (`hybrid`, `ml-dsa-65`) genesis `validatorChanges` that bring a validator in (they carry no
 * key). With staking the genesis validators' keys are in the staking contract (`resolveBftConfig`).
 */
function checkScheme(c: {
  signatureScheme?: SignatureScheme | undefined
  staking?: boolean | undefined
  validators?: { address: string }[] | undefined
  validatorChanges?: { address: string; power: bigint }[] | undefined
}): SignatureScheme {
  const scheme = c.signatureScheme ?? 'secp256k1'
  const refuse = (message: string, hint: string): CairnError =>
    new CairnError(ConsensusErrorCode.BFT_INVALID_CONFIG, `config.cairn.bft.signatureScheme: ${message}`, {
      fault: 'caller',
      hint,
    })
  if (scheme !== 'secp256k1') {
    const members = new Set((c.validators ?? []).map((v) => v.address.toLowerCase()))
    const joiner = (c.validatorChanges ?? []).find((ch) => ch.power > 0n && !members.has(ch.address.toLowerCase()))
    if (joiner !== undefined) {
      throw refuse(
        `validatorChanges bring ${joiner.address} in, and a change carries no ML-DSA key`,
        `under ${scheme}, changes may only re-weight or remove genesis validators`,
      )
    }
  }
  return scheme
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
  return { ...config, validators: await genesisStakingSet(genesis, config.signatureScheme ?? 'secp256k1') }
}
