import { CairnError } from '@cairn/utils'
import { Hardfork, Mainnet } from '@ethereumjs/common'
import { ChainErrorCode } from '../errors.ts'

/**
 * A chain's fork schedule, from geth's genesis `config`: which @ethereumjs hardfork rules each block
 * runs under. Block-number forks (Homestead … Gray Glacier), the merge (by terminal total
 * difficulty, or at genesis), timestamp forks (Shanghai … BPO2) and the blob schedule.
 */
export interface ForkSchedule {
  chainId: bigint
  /** Every hardfork @ethereumjs knows, in its order; `block`/`timestamp` unset when not scheduled. */
  forks: ScheduledFork[]
  /** Block of the merge when it is known in advance (at genesis, or geth's legacy `mergeForkBlock`). */
  mergeBlock: bigint | undefined
  /** Terminal total difficulty: the first block whose parent reaches it is proof-of-stake. */
  terminalTotalDifficulty: bigint | undefined
  /** Blob target, max and base-fee update fraction per fork (geth's `blobSchedule`). */
  blobSchedule: Record<string, BlobParams>
  /** The DAO fork block whose irregular state change geth applies (`daoForkSupport`). */
  daoForkBlock: bigint | undefined
}

export interface ScheduledFork {
  name: string
  block?: bigint
  timestamp?: bigint
}

export interface BlobParams {
  target: number
  max: number
  baseFeeUpdateFraction: number
}

/** The block-number forks of geth's config, in order, with @ethereumjs's name for each. */
const BLOCK_FORKS: [key: string, fork: string][] = [
  ['homesteadBlock', Hardfork.Homestead],
  ['daoForkBlock', Hardfork.Dao],
  ['eip150Block', Hardfork.TangerineWhistle],
  ['eip155Block', Hardfork.SpuriousDragon],
  ['byzantiumBlock', Hardfork.Byzantium],
  ['constantinopleBlock', Hardfork.Constantinople],
  ['petersburgBlock', Hardfork.Petersburg],
  ['istanbulBlock', Hardfork.Istanbul],
  ['muirGlacierBlock', Hardfork.MuirGlacier],
  ['berlinBlock', Hardfork.Berlin],
  ['londonBlock', Hardfork.London],
  ['arrowGlacierBlock', Hardfork.ArrowGlacier],
  ['grayGlacierBlock', Hardfork.GrayGlacier],
]

/** Timestamp forks geth's config names and @ethereumjs 10 implements, in order. */
const TIME_FORKS: [key: string, fork: string][] = [
  ['shanghaiTime', Hardfork.Shanghai],
  ['cancunTime', Hardfork.Cancun],
  ['pragueTime', Hardfork.Prague],
  ['osakaTime', Hardfork.Osaka],
  ['bpo1Time', Hardfork.Bpo1],
  ['bpo2Time', Hardfork.Bpo2],
]

/** Forks a chain may leave out while later ones are set (geth's CheckConfigForkOrder optional ones). */
const OPTIONAL = new Set<string>([
  Hardfork.Dao,
  Hardfork.MuirGlacier,
  Hardfork.ArrowGlacier,
  Hardfork.GrayGlacier,
  Hardfork.MergeNetsplitBlock,
])

/** Settings of geth's config that Cairn refuses: they would run other rules than geth's. */
const REFUSED: Record<string, string> = {
  clique: 'proof-of-authority (clique) chains are not supported',
  bpo3Time: 'BPO3 is not implemented by @ethereumjs 10',
  bpo4Time: 'BPO4 is not implemented by @ethereumjs 10',
  bpo5Time: 'BPO5 is not implemented by @ethereumjs 10',
  amsterdamTime: 'Amsterdam is a draft that Cairn does not run',
  verkleTime: 'Verkle is not supported',
  enableVerkleAtGenesis: 'Verkle is not supported',
}

/** Settings of geth's config that change nothing Cairn computes (or only what it does not check). */
const IGNORED = new Set([
  'chainId',
  'cairn',
  'ethash',
  'depositContractAddress',
  'terminalTotalDifficultyPassed',
  'eip150Hash',
  'eip158Block',
  'daoForkSupport',
  'mergeNetsplitBlock',
  'mergeForkBlock',
  'terminalTotalDifficulty',
  'blobSchedule',
  ...BLOCK_FORKS.map(([k]) => k),
  ...TIME_FORKS.map(([k]) => k),
])

/** Order of every hardfork @ethereumjs knows. */
export const HARDFORK_ORDER: readonly string[] = Mainnet.hardforks.map((h) => h.name)

const invalid = (source: string, what: string, hint?: string) =>
  new CairnError(ChainErrorCode.GENESIS_INVALID, `${source}: ${what}`, { fault: 'caller', ...(hint ? { hint } : {}) })

/** A fork setting of geth's config as a bigint (JSON numbers, decimal or 0x-hex strings). */
function num(config: Record<string, unknown>, key: string, source: string): bigint | undefined {
  const v = config[key]
  if (v === null || v === undefined) return undefined
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v)
  if (typeof v === 'string' && /^(0x[0-9a-fA-F]+|[0-9]+)$/.test(v)) return BigInt(v)
  throw invalid(
    source,
    `config.${key} must be a non-negative integer`,
    typeof v === 'number' ? 'JSON numbers above 2^53 lose digits: write it as a decimal string' : undefined,
  )
}

/**
 * Every fork up to `hardfork` active at genesis: `config.cairn.hardfork`, or a config without any
 * fork setting (Cairn's dev chains and its own genesis files).
 */
export function singleForkSchedule(chainId: bigint, hardfork: string): ForkSchedule {
  const last = HARDFORK_ORDER.indexOf(hardfork)
  const firstTimeFork = HARDFORK_ORDER.indexOf(Hardfork.Shanghai)
  const forks = HARDFORK_ORDER.map((name, i): ScheduledFork => {
    if (i > last) return { name }
    return i >= firstTimeFork ? { name, timestamp: 0n } : { name, block: 0n }
  })
  return {
    chainId,
    forks,
    mergeBlock: 0n,
    terminalTotalDifficulty: undefined,
    blobSchedule: {},
    daoForkBlock: undefined,
  }
}

/** Refuses settings Cairn cannot run as geth would (clique, forks @ethereumjs does not implement). */
export function refuseUnsupported(config: Record<string, unknown>, source: string): void {
  for (const [key, why] of Object.entries(REFUSED)) {
    if (config[key] !== undefined && config[key] !== null && config[key] !== false) {
      throw invalid(source, `config.${key}: ${why}`)
    }
  }
}

/** True when `config` sets no fork at all (every fork to the default one applies from genesis). */
export function setsNoFork(config: Record<string, unknown>): boolean {
  return ![...BLOCK_FORKS, ...TIME_FORKS, ['mergeNetsplitBlock'], ['terminalTotalDifficulty'], ['mergeForkBlock']].some(
    ([k]) => config[k as string] !== undefined && config[k as string] !== null,
  )
}

/**
 * The schedule geth's `config` describes. Refuses what Cairn cannot run as geth would (clique,
 * forks @ethereumjs does not implement, forks out of order, EIP-155 and EIP-158 apart) and
 * reports settings it ignores in `warnings`.
 */
export function parseForkSchedule(
  config: Record<string, unknown>,
  chainId: bigint,
  warnings: string[],
  source: string,
): ForkSchedule {
  for (const key of Object.keys(config)) {
    if (!IGNORED.has(key) && !(key in REFUSED)) warnings.push(`config.${key} is not a setting Cairn knows; ignored`)
  }
  const at = new Map<string, ScheduledFork>(HARDFORK_ORDER.map((name) => [name, { name }]))
  // Cairn's short form: only timestamp forks (`{"chainId": 1, "pragueTime": 0}`) puts every block
  // fork and the merge at genesis, as for its dev chains.
  const blockForksSet =
    [...BLOCK_FORKS.map(([k]) => k), 'eip158Block', 'mergeNetsplitBlock'].some(
      (k) => config[k] !== undefined && config[k] !== null,
    ) || !['0', '0x0', 0, undefined, null].includes(config['terminalTotalDifficulty'] as string | number)
  for (const [key, fork] of BLOCK_FORKS) {
    const v = blockForksSet ? num(config, key, source) : fork === Hardfork.Dao ? undefined : 0n
    if (v !== undefined) (at.get(fork) as ScheduledFork).block = v
  }
  const eip158 = num(config, 'eip158Block', source)
  const eip155 = num(config, 'eip155Block', source)
  if (eip155 !== undefined && eip158 !== undefined && eip155 !== eip158) {
    throw invalid(
      source,
      `config.eip155Block (${eip155}) and config.eip158Block (${eip158}) differ`,
      'Cairn runs Spurious Dragon (EIP-155 and EIP-158) as one fork: set both to the same block',
    )
  }
  if ((eip155 === undefined) !== (eip158 === undefined)) {
    const [given, missing] = eip155 === undefined ? ['eip158Block', 'eip155Block'] : ['eip155Block', 'eip158Block']
    warnings.push(`config.${missing} is not set: Spurious Dragon (EIP-155 and EIP-158) starts at ${given}`)
    ;(at.get(Hardfork.SpuriousDragon) as ScheduledFork).block = eip155 ?? eip158
  }
  // geth: Petersburg left out means it comes with Constantinople.
  const petersburg = at.get(Hardfork.Petersburg) as ScheduledFork
  const constantinople = at.get(Hardfork.Constantinople) as ScheduledFork
  if (petersburg.block === undefined && constantinople.block !== undefined) petersburg.block = constantinople.block
  let daoForkBlock: bigint | undefined
  if (config['daoForkSupport'] === true && at.get(Hardfork.Dao)?.block !== undefined) {
    daoForkBlock = at.get(Hardfork.Dao)?.block
    warnings.push(
      `config.daoForkSupport: the DAO fork's balance transfers at block ${daoForkBlock} are not applied; that block will not import`,
    )
  }
  // In the short form a timestamp fork left out comes with the next one set (`pragueTime: 0` alone
  // is Shanghai, Cancun and Prague at genesis); with block forks set, geth's order rules apply.
  let next: bigint | undefined
  for (const [key, fork] of [...TIME_FORKS].reverse()) {
    const v = num(config, key, source) ?? (blockForksSet ? undefined : next)
    if (v !== undefined) (at.get(fork) as ScheduledFork).timestamp = v
    next = v
  }
  const ttd = num(config, 'terminalTotalDifficulty', source)
  const ttdPassed = config['terminalTotalDifficultyPassed'] === true
  const netsplit = num(config, 'mergeNetsplitBlock', source)
  const hasTimeFork = TIME_FORKS.some(([, f]) => at.get(f)?.timestamp !== undefined)
  let mergeBlock = num(config, 'mergeForkBlock', source)
  if (!blockForksSet) mergeBlock = 0n
  if (mergeBlock === undefined && (ttd === 0n || (ttd === undefined && (ttdPassed || hasTimeFork)))) {
    mergeBlock = ttd === 0n || netsplit === undefined ? 0n : netsplit
  }
  if (ttd === undefined && mergeBlock === undefined && hasTimeFork) {
    throw invalid(source, 'timestamp forks are set but the merge is not (config.terminalTotalDifficulty)')
  }
  const paris = at.get(Hardfork.Paris) as ScheduledFork
  if (mergeBlock !== undefined) paris.block = mergeBlock
  if (netsplit !== undefined) (at.get(Hardfork.MergeNetsplitBlock) as ScheduledFork).block = netsplit
  const forks = HARDFORK_ORDER.map((n) => at.get(n) as ScheduledFork)
  checkOrder(forks, ttd !== undefined, source)
  return {
    chainId,
    forks,
    mergeBlock,
    terminalTotalDifficulty: mergeBlock === undefined ? ttd : undefined,
    blobSchedule: parseBlobSchedule(config['blobSchedule'], forks, source),
    daoForkBlock,
  }
}

/** geth's CheckConfigForkOrder: no fork after a required one left out, and never going back. */
function checkOrder(forks: ScheduledFork[], byTtd: boolean, source: string): void {
  let missing: string | undefined
  let prev: ScheduledFork | undefined
  for (const f of forks) {
    if (f.name === Hardfork.Chainstart) continue
    const set = f.block !== undefined || f.timestamp !== undefined || (f.name === Hardfork.Paris && byTtd)
    if (!set) {
      if (!OPTIONAL.has(f.name)) missing ??= f.name
      continue
    }
    if (missing) throw invalid(source, `fork order: ${missing} is not enabled, but ${f.name} is`)
    const back =
      prev &&
      ((f.block !== undefined && prev.block !== undefined && f.block < prev.block) ||
        (f.timestamp !== undefined && prev.timestamp !== undefined && f.timestamp < prev.timestamp))
    if (back) throw invalid(source, `fork order: ${f.name} is scheduled before ${prev?.name}`)
    prev = f
  }
}

function parseBlobSchedule(raw: unknown, forks: ScheduledFork[], source: string): Record<string, BlobParams> {
  const out: Record<string, BlobParams> = {}
  if (raw === undefined || raw === null) return out
  if (typeof raw !== 'object') throw invalid(source, 'config.blobSchedule must be an object')
  for (const [fork, v] of Object.entries(raw as Record<string, unknown>)) {
    const known = forks.find((f) => f.name === fork)
    if (!known || HARDFORK_ORDER.indexOf(fork) < HARDFORK_ORDER.indexOf(Hardfork.Cancun)) {
      throw invalid(source, `config.blobSchedule.${fork}: not a fork with blobs that Cairn knows`)
    }
    const p = v as Partial<BlobParams> | null
    const ok = (x: unknown) => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0
    if (
      !p ||
      !ok(p.target) ||
      !ok(p.max) ||
      !ok(p.baseFeeUpdateFraction) ||
      (p.baseFeeUpdateFraction as number) === 0
    ) {
      throw invalid(source, `config.blobSchedule.${fork}: needs "target", "max" and "baseFeeUpdateFraction" numbers`)
    }
    if ((p.target as number) > (p.max as number)) throw invalid(source, `config.blobSchedule.${fork}: target > max`)
    out[fork] = p as BlobParams
  }
  return out
}

/**
 * The hardfork whose rules a block runs under. `postMerge`: the block is a proof-of-stake block
 * (its difficulty is 0 on a chain that merges by terminal total difficulty; the importer checks
 * that against the total difficulty). Block forks apply from their number, the merge and the
 * forks after it only to proof-of-stake blocks, timestamp forks from their time.
 */
export function forkAt(schedule: ForkSchedule, number: bigint, timestamp: bigint, postMerge: boolean): string {
  const merged =
    schedule.mergeBlock !== undefined
      ? number >= schedule.mergeBlock
      : schedule.terminalTotalDifficulty !== undefined && postMerge
  let fork: string = Hardfork.Chainstart
  for (const f of schedule.forks) {
    const afterMerge = f.timestamp !== undefined || f.name === Hardfork.Paris || f.name === Hardfork.MergeNetsplitBlock
    if (f.name === Hardfork.Paris) {
      if (merged) fork = f.name
      continue
    }
    if (afterMerge && !merged) continue
    if (f.block !== undefined ? number >= f.block : f.timestamp !== undefined && timestamp >= f.timestamp) fork = f.name
  }
  return fork
}

/** True when `fork` comes at or after `than` in @ethereumjs's order. */
export function forkAtLeast(fork: string, than: string): boolean {
  return HARDFORK_ORDER.indexOf(fork) >= HARDFORK_ORDER.indexOf(than)
}
