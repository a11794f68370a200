/**
 * The staking genesis: the staking and governance contracts' code and storage in `alloc`, as if
 * `initialize` had run before block 1. The storage is what `initialize` writes when run from the
 * system address in a throwaway EVM over nothing but the two contracts, so the genesis file is a
 * plain geth-style `alloc` any tool reads, and the contracts' own code decides its layout.
 *
 * The same throwaway EVM reads the set of height 1 back from a genesis (`genesisStakingSet`): the
 * set a BFT engine starts from, taken from the contract's state as every later set is.
 */
import { GOVERNANCE_ADDRESS, governance, governanceAbi, STAKING_ADDRESS, staking, stakingAbi } from '@cairn/contracts'
import { CairnError, hexToBytes } from '@cairn/utils'
import { createCustomCommon, Hardfork, Mainnet } from '@ethereumjs/common'
import { SimpleStateManager } from '@ethereumjs/statemanager'
import { Account, Address, bytesToHex, setLengthLeft, unpadBytes } from '@ethereumjs/util'
import { createVM, type VM } from '@ethereumjs/vm'
import { decodeErrorResult, decodeFunctionResult, encodeFunctionData, type Hex, toFunctionSelector } from 'viem'
import type { Address as ValidatorAddress } from '../bft/messages.ts'
import { needsPqKeys, type SignatureScheme } from '../bft/pq/scheme.ts'
import { ConsensusErrorCode } from '../errors.ts'
import { signatureSchemeCode } from './codes.ts'
import { type ChainParams, type GovParams, type StakingParams, stakingParamsArg } from './params.ts'
import { systemCall } from './system-call.ts'

export interface GenesisValidator {
  /** The account that runs the validator (edits, unjails, withdraws commission). */
  operator: Hex
  /** The address of the validator's consensus key (what it signs votes with). */
  consensus: Hex
  /** Its self-bond, wei (minted into the staking contract at genesis). */
  selfBond: bigint
  commissionBps: number
  /** Its ML-DSA-65 public key (1,952 bytes, hex): required under a PQ scheme, absent under secp256k1. */
  pqPublicKey?: Hex
}

export interface StakingGenesisOptions {
  chainId: bigint
  validators: GenesisValidator[]
  staking: StakingParams
  governance: GovParams
  chain: ChainParams
  /**
   * The chain's consensus signature scheme (default secp256k1). Under `hybrid` / `ml-dsa-65` the
   * contract is told the scheme and each validator's key (`Staking.initializePq`); under
   * `ml-dsa-65` each `consensus` address must be `pqAddress` of its key.
   */
  signatureScheme?: SignatureScheme
}

/** A geth-style alloc entry. */
export interface AllocEntry {
  balance: Hex
  code: Hex
  storage: Record<Hex, Hex>
}

/** The `alloc` entries of the two contracts after `initialize` (add them to the genesis's alloc). */
export async function stakingGenesisAlloc(opts: StakingGenesisOptions): Promise<Record<Hex, AllocEntry>> {
  if (opts.validators.length === 0) {
    throw new CairnError(ConsensusErrorCode.STAKING_INVALID_GENESIS, 'a staking genesis needs at least one validator', {
      fault: 'caller',
    })
  }
  const { vm, sm } = await throwawayVm(opts.chainId)
  const stakingAddr = hexToBytes(STAKING_ADDRESS as Hex)
  const govAddr = hexToBytes(GOVERNANCE_ADDRESS as Hex)
  await sm.putCode(new Address(stakingAddr), hexToBytes(staking.deployedBytecode as Hex))
  await sm.putCode(new Address(govAddr), hexToBytes(governance.deployedBytecode as Hex))
  const block = { number: 0n, timestamp: 0n, coinbase: new Uint8Array(20) }
  const total = opts.validators.reduce((s, v) => s + v.selfBond, 0n)
  await refusedParams(
    systemCall(
      vm,
      block,
      stakingAddr,
      hexToBytes(
        encodeFunctionData({
          abi: stakingAbi,
          functionName: 'initialize',
          args: [
            stakingParamsArg(opts.staking),
            GOVERNANCE_ADDRESS as Hex,
            opts.validators.map((v) => v.operator),
            opts.validators.map((v) => v.consensus),
            opts.validators.map((v) => v.selfBond),
            opts.validators.map((v) => v.commissionBps),
          ],
        }),
      ),
      total,
    ),
  )
  const scheme = opts.signatureScheme ?? 'secp256k1'
  if (needsPqKeys(scheme)) {
    const missing = opts.validators.find((v) => v.pqPublicKey === undefined)
    if (missing !== undefined) {
      throw new CairnError(
        ConsensusErrorCode.STAKING_INVALID_GENESIS,
        `genesis validator ${missing.consensus} has no pqPublicKey, which the ${scheme} scheme needs`,
        { fault: 'caller' },
      )
    }
    await systemCall(
      vm,
      block,
      stakingAddr,
      hexToBytes(
        encodeFunctionData({
          abi: stakingAbi,
          functionName: 'initializePq',
          args: [
            signatureSchemeCode(scheme),
            opts.validators.map((v) => v.consensus),
            opts.validators.map((v) => v.pqPublicKey as Hex),
          ],
        }),
      ),
    )
  }
  await refusedParams(
    systemCall(
      vm,
      block,
      govAddr,
      hexToBytes(
        encodeFunctionData({
          abi: governanceAbi,
          functionName: 'initialize',
          args: [opts.governance, opts.chain, STAKING_ADDRESS as Hex],
        }),
      ),
    ),
  )
  const out: Record<Hex, AllocEntry> = {}
  for (const [addr, code] of [
    [stakingAddr, staking.deployedBytecode],
    [govAddr, governance.deployedBytecode],
  ] as const) {
    const account = (await sm.getAccount(new Address(addr))) ?? new Account()
    out[bytesToHex(addr) as Hex] = {
      balance: `0x${account.balance.toString(16)}`,
      code: code as Hex,
      storage: storageOf(sm, new Address(addr)),
    }
  }
  return out
}

/**
 * The validator set of height 1 of a staking genesis: `Staking.activeSet()` over the genesis's
 * staking contract, under a PQ `scheme` with each member's ML-DSA-65 key (`Staking.pqPublicKeys`;
 * absent when none is registered, which the set then refuses). Throws when the genesis has no staking
 * contract or an empty set.
 */
export async function genesisStakingSet(
  genesis: unknown,
  scheme: SignatureScheme = 'secp256k1',
): Promise<{ address: ValidatorAddress; votingPower: bigint; pqPublicKey?: Uint8Array }[]> {
  const g = genesis as {
    config?: { chainId?: number | string }
    alloc?: Record<string, { code?: string; storage?: Record<string, string>; balance?: string }>
  }
  const alloc = g.alloc ?? {}
  const key = Object.keys(alloc).find((k) => normal(k) === normal(STAKING_ADDRESS))
  const entry = key === undefined ? undefined : alloc[key]
  if (entry?.code === undefined || entry.code === '0x') {
    throw new CairnError(
      ConsensusErrorCode.STAKING_INVALID_GENESIS,
      `config.cairn.bft.staking is set but the genesis alloc has no staking contract at ${STAKING_ADDRESS}`,
      { fault: 'caller', hint: 'make the genesis with `cairn devnet init` (docs/consensus/staking.md)' },
    )
  }
  const { vm, sm } = await throwawayVm(BigInt(g.config?.chainId ?? 1))
  const addr = new Address(hexToBytes(STAKING_ADDRESS as Hex))
  await sm.putCode(addr, hexToBytes(entry.code as Hex))
  for (const [k, v] of Object.entries(entry.storage ?? {})) {
    await sm.putStorage(addr, setLengthLeft(hexToBytes(evenHex(k)), 32), unpadBytes(hexToBytes(evenHex(v))))
  }
  const res = await systemCall(
    vm,
    { number: 0n, timestamp: 0n, coinbase: new Uint8Array(20) },
    addr.bytes,
    hexToBytes(encodeFunctionData({ abi: stakingAbi, functionName: 'activeSet' })),
    0n,
    true,
  )
  const [addrs, powers] = decodeFunctionResult({
    abi: stakingAbi,
    functionName: 'activeSet',
    data: bytesToHex(res.returnValue) as Hex,
  }) as readonly [readonly Hex[], readonly bigint[]]
  if (addrs.length === 0) {
    throw new CairnError(ConsensusErrorCode.STAKING_INVALID_GENESIS, 'the staking genesis has no active validator', {
      fault: 'caller',
    })
  }
  if (!needsPqKeys(scheme)) return addrs.map((a, i) => ({ address: hexToBytes(a), votingPower: powers[i] as bigint }))
  const keysOut = await systemCall(
    vm,
    { number: 0n, timestamp: 0n, coinbase: new Uint8Array(20) },
    addr.bytes,
    hexToBytes(encodeFunctionData({ abi: stakingAbi, functionName: 'pqPublicKeys', args: [addrs] })),
    0n,
    true,
  )
  const keys = decodeFunctionResult({
    abi: stakingAbi,
    functionName: 'pqPublicKeys',
    data: bytesToHex(keysOut.returnValue) as Hex,
  }) as readonly Hex[]
  return addrs.map((a, i) => {
    const key = hexToBytes(keys[i] ?? '0x')
    const member = { address: hexToBytes(a), votingPower: powers[i] as bigint }
    return key.length === 0 ? member : { ...member, pqPublicKey: key }
  })
}

/**
 * `call`, with a contract's `InvalidParams(reason)` (a genesis parameter out of its bounds) turned
 * into the caller's error that names it; any other failure as it is.
 */
async function refusedParams<T>(call: Promise<T>): Promise<T> {
  try {
    return await call
  } catch (err) {
    const data = ((err as CairnError).meta as { returnValue?: unknown } | undefined)?.returnValue
    if (typeof data !== 'string' || !data.startsWith(INVALID_PARAMS)) throw err
    const reason = decodeErrorResult({ abi: stakingAbi, data: data as Hex }).args?.[0]
    throw new CairnError(
      ConsensusErrorCode.STAKING_INVALID_GENESIS,
      `the staking genesis parameters are refused: ${String(reason)}`,
      {
        fault: 'caller',
        hint: 'change the --param that sets it (the bounds and why: docs/consensus/staking.md "Parameter bounds", governance.md)',
      },
    )
  }
}

/** The selector of `InvalidParams(string)` (Staking and Governance declare the same error). */
const INVALID_PARAMS = toFunctionSelector('InvalidParams(string)')

async function throwawayVm(chainId: bigint): Promise<{ vm: VM; sm: SimpleStateManager }> {
  const common = createCustomCommon({ chainId: Number(chainId) }, Mainnet, { hardfork: Hardfork.Prague })
  const sm = new SimpleStateManager({ common })
  const vm = await createVM({ common, stateManager: sm })
  return { vm, sm }
}

/** The non-zero storage of `address` in a SimpleStateManager (keyed `${address}_${slot}`). */
function storageOf(sm: SimpleStateManager, address: Address): Record<Hex, Hex> {
  const stack = (sm as unknown as { storageStack: Map<string, Uint8Array>[] }).storageStack
  const top = stack[stack.length - 1] ?? new Map()
  const prefix = `${address.toString()}_`
  const out: Record<Hex, Hex> = {}
  const keys = [...top.keys()].filter((k) => k.startsWith(prefix)).sort()
  for (const k of keys) {
    const v = top.get(k) as Uint8Array
    if (v.length === 0 || v.every((b) => b === 0)) continue
    out[`0x${k.slice(prefix.length + 2).padStart(64, '0')}` as Hex] = bytesToHex(v) as Hex
  }
  return out
}

function normal(a: string): string {
  return a.toLowerCase().replace(/^0x/, '')
}

/** A genesis word written with an odd number of digits (`0x1`) as bytes-ready hex. */
function evenHex(v: string): Hex {
  const s = v.replace(/^0x/, '')
  return `0x${s.length % 2 === 1 ? `0${s}` : s}` as Hex
}
