import { CairnError, type Hex } from '@cairn/utils'
import { Hardfork } from '@ethereumjs/common'
import { z } from 'zod'
import { ChainErrorCode } from '../errors.ts'
import { DEFAULT_HARDFORK, SUPPORTED_HARDFORKS } from './common.ts'
import { create2DeployerAlloc } from './create2-deployer.ts'
import {
  type ForkSchedule,
  forkAt,
  forkAtLeast,
  parseForkSchedule,
  refuseUnsupported,
  setsNoFork,
  singleForkSchedule,
} from './fork-schedule.ts'
import { systemContractAlloc } from './system-contracts.ts'

/**
 * A geth-style `genesis.json`: `config.chainId`, `alloc` (balance, code, storage, nonce per
 * address), `gasLimit`, `baseFeePerGas`, `timestamp`, `extraData`, and the optional header fields.
 * Numbers may be JSON numbers, decimal strings or 0x-hex strings, as geth accepts.
 */

const numeric = z.union([
  z.number().int().nonnegative(),
  z.string().regex(/^(0x[0-9a-fA-F]+|[0-9]+)$/, 'a decimal or 0x-hex number'),
])
/** True for what `numeric` accepts (a refinement may see other input when the union failed). */
const isNumeric = (v: unknown): v is number | string =>
  (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) ||
  (typeof v === 'string' && /^(0x[0-9a-fA-F]+|[0-9]+)$/.test(v))
const U64_MAX = 2n ** 64n - 1n
const U256_MAX = 2n ** 256n - 1n
/** A number that fits `bits` bits, as geth requires per field. */
const bounded = (max: bigint, what: string) =>
  numeric.refine(
    (v) => !/^(0x[0-9a-fA-F]+|[0-9]+)$/.test(String(v)) || BigInt(v) <= max,
    `must fit in ${what} (at most ${max})`,
  )
const u64 = bounded(U64_MAX, '64 bits')
const u256 = bounded(U256_MAX, '256 bits')
const hexData = z.string().regex(/^0x([0-9a-fA-F]{2})*$/, '0x-prefixed hex bytes')
const address = z.string().regex(/^(0x)?[0-9a-fA-F]{40}$/, 'a 20-byte hex address')
const word = z.string().regex(/^(0x)?[0-9a-fA-F]{1,64}$/, 'a hex value of at most 32 bytes')

const allocEntry = z
  .object({
    balance: u256.default('0'),
    code: hexData.optional(),
    storage: z.record(word, word).optional(),
    nonce: u64.optional(),
    privateKey: z.string().optional(),
  })
  .strict()

const hash32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'a 32-byte 0x-hex value')

/** geth writes absent optional fields as `null` (`"baseFeePerGas": null`): the same as leaving them out. */
function withoutNulls(v: unknown): unknown {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return v
  return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== null))
}

export const genesisSchema = z.preprocess(
  withoutNulls,
  z
    .object({
      config: z.preprocess(
        withoutNulls,
        z
          .object({
            // A number, or a decimal or 0x-hex string as the other numbers (docs/genesis.md).
            chainId: numeric
              .refine((v) => !isNumeric(v) || (BigInt(v) > 0n && BigInt(v) <= BigInt(Number.MAX_SAFE_INTEGER)), {
                message: `must be a positive integer of at most ${Number.MAX_SAFE_INTEGER}`,
              })
              .transform((v) => Number(v)),
            cairn: z
              .object({
                hardfork: z.enum(SUPPORTED_HARDFORKS).optional(),
                // The BFT engine's settings (validators, timeouts): @cairn/consensus validates them.
                bft: z.unknown().optional(),
                // The proof-of-work engine's chain parameters: @cairn/consensus/pow validates them.
                pow: z.unknown().optional(),
                // The GhostDAG engine's DAG parameters: @cairn/consensus/ghostdag validates them.
                ghostdag: z.unknown().optional(),
                // This chain is shard `index` of `count` (docs/consensus/sharding.md): its pool refuses
                // senders whose home shard is another. At most 1,024 shards (@cairn/consensus/shard's MAX_SHARDS).
                shard: z
                  .object({
                    index: z.number().int().nonnegative(),
                    count: z.number().int().min(1).max(1024),
                  })
                  .strict()
                  .refine((s) => s.index < s.count, { message: 'index must be below count (shards are 0..count−1)' })
                  .optional(),
              })
              .strict()
              .optional(),
          })
          .catchall(z.unknown()),
      ),
      alloc: z.record(address, allocEntry).default({}),
      gasLimit: u64.default('0x1c9c380'),
      baseFeePerGas: u256.optional(),
      timestamp: u64.default('0x0'),
      extraData: hexData.default('0x'),
      difficulty: u256.default('0x0'),
      coinbase: address.optional(),
      mixHash: hash32.optional(),
      nonce: u64.optional(),
      number: numeric.optional(),
      gasUsed: numeric.optional(),
      parentHash: z.string().optional(),
      excessBlobGas: u64.optional(),
      blobGasUsed: u64.optional(),
      parentBeaconBlockRoot: hash32.optional(),
      requestsHash: hash32.optional(),
    })
    .passthrough(),
)

export interface GenesisAccount {
  balance: bigint
  nonce: bigint
  code?: Uint8Array
  storage: [Uint8Array, Uint8Array][]
}

/** A validated genesis, with every number as a bigint. */
export interface GenesisSpec {
  chainId: bigint
  /** The fork the genesis block runs under (the latest one scheduled at block 0 and its timestamp). */
  hardfork: string
  /** Which fork every later block runs under. */
  schedule: ForkSchedule
  alloc: Map<Hex, GenesisAccount>
  gasLimit: bigint
  /** Absent before London. */
  baseFeePerGas: bigint | undefined
  timestamp: bigint
  extraData: Uint8Array
  difficulty: bigint
  coinbase: Hex
  mixHash: Hex
  nonce: bigint
  /** Cancun and later: the genesis header's blob fields (0 by default). */
  excessBlobGas: bigint
  blobGasUsed: bigint
  /** Cancun and later (zero by default); Prague and later (the empty requests hash by default). */
  parentBeaconBlockRoot: Hex | undefined
  requestsHash: Hex | undefined
  /** `config.cairn.shard`: this chain is shard `index` of `count`; undefined: not a shard. */
  shard: { index: number; count: number } | undefined
  /** Settings geth would honour that Cairn ignores, for the caller to log. */
  warnings: string[]
}

function big(v: number | string): bigint {
  return BigInt(v)
}

function bytes(hex: string): Uint8Array {
  const h = hex.startsWith('0x') ? hex.slice(2) : hex
  return Uint8Array.from(Buffer.from(h.length % 2 ? `0${h}` : h, 'hex'))
}

function word32(hex: string): Uint8Array {
  const b = bytes(hex)
  const out = new Uint8Array(32)
  out.set(b, 32 - b.length)
  return out
}

/**
 * Validates a parsed genesis.json and returns a {@link GenesisSpec}. Throws
 * `CHAIN_GENESIS_INVALID` naming the field and what was expected.
 */
export function parseGenesis(json: unknown, source = 'genesis', opts: { defaultHardfork?: string } = {}): GenesisSpec {
  const parsed = genesisSchema.safeParse(json)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    const path = issue?.path.join('.') || '(root)'
    throw new CairnError(ChainErrorCode.GENESIS_INVALID, `${source}: field "${path}": ${issue?.message}`, {
      fault: 'caller',
      hint: 'fix the genesis file; see docs/genesis.md for the format (geth-style genesis.json)',
      meta: { path, issues: parsed.error.issues.slice(0, 5) },
    })
  }
  const g = parsed.data
  const warnings: string[] = []
  if (g.number !== undefined && big(g.number) !== 0n) {
    throw new CairnError(ChainErrorCode.GENESIS_INVALID, `${source}: field "number" must be 0 for a genesis block`, {
      fault: 'caller',
    })
  }
  const gasLimit = big(g.gasLimit)
  if (gasLimit < 5000n) {
    throw new CairnError(ChainErrorCode.GENESIS_INVALID, `${source}: field "gasLimit" is ${gasLimit}, below 5000`, {
      fault: 'caller',
      hint: 'use 30000000 (0x1c9c380), the default',
    })
  }
  if (g.extraData.length > 2 + 64) {
    throw new CairnError(ChainErrorCode.GENESIS_INVALID, `${source}: field "extraData" is longer than 32 bytes`, {
      fault: 'caller',
    })
  }
  const chainId = BigInt(g.config.chainId)
  const schedule = chooseSchedule(g.config, chainId, opts.defaultHardfork ?? DEFAULT_HARDFORK, warnings, source)
  const timestamp = big(g.timestamp)
  const difficulty = big(g.difficulty)
  const hardfork = forkAt(schedule, 0n, timestamp, difficulty === 0n)
  const london = forkAtLeast(hardfork, Hardfork.London)
  if (!london && g.baseFeePerGas !== undefined) {
    throw invalid(source, `field "baseFeePerGas" is set but London is not active at genesis (${hardfork})`)
  }
  for (const [field, fork] of [
    ['excessBlobGas', Hardfork.Cancun],
    ['blobGasUsed', Hardfork.Cancun],
    ['parentBeaconBlockRoot', Hardfork.Cancun],
    ['requestsHash', Hardfork.Prague],
  ] as const) {
    if (g[field] !== undefined && !forkAtLeast(hardfork, fork)) {
      throw invalid(source, `field "${field}" is set but ${fork} is not active at genesis (${hardfork})`)
    }
  }
  const alloc = new Map<Hex, GenesisAccount>()
  for (const [addr, acc] of Object.entries(g.alloc)) {
    const key = (addr.startsWith('0x') ? addr : `0x${addr}`).toLowerCase() as Hex
    if (alloc.has(key)) {
      throw new CairnError(ChainErrorCode.GENESIS_INVALID, `${source}: address ${key} appears twice in "alloc"`, {
        fault: 'caller',
      })
    }
    if (acc.privateKey !== undefined) warnings.push(`alloc.${key}.privateKey is ignored`)
    alloc.set(key, {
      balance: big(acc.balance),
      nonce: acc.nonce === undefined ? 0n : big(acc.nonce),
      ...(acc.code && acc.code !== '0x' ? { code: bytes(acc.code) } : {}),
      storage: Object.entries(acc.storage ?? {}).map(([k, v]) => [word32(k), word32(v)] as [Uint8Array, Uint8Array]),
    })
  }
  return {
    chainId,
    hardfork,
    schedule,
    alloc,
    gasLimit,
    // geth: London at genesis without a base fee gets the initial one (1 gwei).
    baseFeePerGas: london ? big(g.baseFeePerGas ?? '0x3b9aca00') : undefined,
    timestamp,
    extraData: bytes(g.extraData),
    difficulty,
    coinbase: (g.coinbase ?? '0x0000000000000000000000000000000000000000').toLowerCase() as Hex,
    mixHash: (g.mixHash ?? `0x${'00'.repeat(32)}`) as Hex,
    nonce: g.nonce === undefined ? 0n : big(g.nonce),
    excessBlobGas: big(g.excessBlobGas ?? 0),
    blobGasUsed: big(g.blobGasUsed ?? 0),
    parentBeaconBlockRoot: g.parentBeaconBlockRoot as Hex | undefined,
    requestsHash: g.requestsHash as Hex | undefined,
    shard: g.config.cairn?.shard,
    warnings,
  }
}

function invalid(source: string, what: string): CairnError {
  return new CairnError(ChainErrorCode.GENESIS_INVALID, `${source}: ${what}`, { fault: 'caller' })
}

/**
 * `config.cairn.hardfork` (every fork up to it at genesis), else geth's fork settings, else (no
 * fork set at all) every fork up to `defaultHardfork` at genesis.
 */
function chooseSchedule(
  config: Record<string, unknown> & { cairn?: { hardfork?: string | undefined } | undefined },
  chainId: bigint,
  defaultHardfork: string,
  warnings: string[],
  source: string,
): ForkSchedule {
  refuseUnsupported(config, source)
  const chosen = config.cairn?.hardfork
  if (chosen !== undefined) {
    if (!setsNoFork(config))
      warnings.push(`config.cairn.hardfork=${chosen} is used; the fork settings beside it are not`)
    return singleForkSchedule(chainId, chosen)
  }
  if (setsNoFork(config)) return singleForkSchedule(chainId, defaultHardfork)
  return parseForkSchedule(config, chainId, warnings, source)
}

/**
 * The dev chain's genesis: chain id 1337 (or `chainId`), the given accounts funded, the system
 * contracts and the CREATE2 deployer deployed.
 */
export function devGenesis(opts: { chainId?: bigint; accounts: Hex[]; balance?: bigint; timestamp?: bigint }): unknown {
  const balance = opts.balance ?? 10_000n * 10n ** 18n
  return {
    config: { chainId: Number(opts.chainId ?? 1337n) },
    alloc: {
      ...Object.fromEntries(opts.accounts.map((a) => [a, { balance: `0x${balance.toString(16)}` }])),
      // The EIP-4788, 2935, 7002 and 7251 contracts, as geth's dev mode deploys them: without the
      // last two every Prague block would be invalid.
      ...systemContractAlloc(),
      // The CREATE2 deployer at 0x4e59…956C, as Anvil and Hardhat predeploy it (salted `forge script`).
      ...create2DeployerAlloc(),
    },
    gasLimit: '0x1c9c380',
    baseFeePerGas: '0x3b9aca00',
    timestamp: `0x${(opts.timestamp ?? 0n).toString(16)}`,
    extraData: '0x',
  }
}
