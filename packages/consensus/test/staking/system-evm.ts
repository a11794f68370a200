// The staking and governance system contracts in an EVM over a real staking genesis (no network, no
// node): users' calls as the EVM runs them, the engine's system calls through `systemCall` (its 30M
// gas) and `StakingHooks.endBlock` (the code path every block takes). For tests that need a chain
// state many transactions deep (1,024 candidates, a governance proposal) in seconds.
import { GOVERNANCE_ADDRESS, governance, STAKING_ADDRESS, staking } from '@cairn/contracts'
import { privateKeyToAddress } from '@cairn/crypto'
import { bytesToHex, hexToBytes, silentLogger } from '@cairn/utils'
import { createCustomCommon, Hardfork, Mainnet } from '@ethereumjs/common'
import { SimpleStateManager } from '@ethereumjs/statemanager'
import { Account, Address as EthAddress, setLengthLeft, unpadBytes } from '@ethereumjs/util'
import { createVM, type VM } from '@ethereumjs/vm'
import {
  type Abi,
  decodeErrorResult,
  decodeFunctionResult,
  encodeFunctionData,
  getAddress,
  type Hex,
  keccak256,
  toHex,
} from 'viem'
import { stakingGenesisAlloc } from '../../src/staking/genesis.ts'
import { type StakingBlockResult, type StakingEvidence, StakingHooks } from '../../src/staking/hooks.ts'
import { type ChainParams, type GovParams, type StakingParams, stakingParamsWith } from '../../src/staking/params.ts'
import { type SystemCallResult, systemCall } from '../../src/staking/system-call.ts'
import { validatorKey } from '../harness/bft-network.ts'

export const STAKING_ABI = staking.abi as Abi
export const GOVERNANCE_ABI = governance.abi as Abi
export const STAKING = STAKING_ADDRESS as Hex
export const GOVERNANCE = GOVERNANCE_ADDRESS as Hex
export const ETHER = 10n ** 18n
const CHAIN_ID = 1337n
/** The gas a user transaction may use (EIP-7825). */
const TX_GAS = 1n << 24n

/** A user call's outcome: success with its return data, or the custom error it reverted with. */
export interface CallOutcome {
  ok: boolean
  gasUsed: bigint
  returnValue: Uint8Array
  /** The decoded error (`InvalidParams("…")`, `ActionFailed(…)`) when it reverted. */
  error?: string
}

export interface StakingEvm {
  vm: VM
  sm: SimpleStateManager
  /** The genesis validators' operators (= consensus addresses), 0x-hex. */
  validators: Hex[]
  /** The block the next call runs in (number, timestamp). */
  block: { number: bigint; timestamp: bigint }
  /** A user call to `to` (its ABI chosen by address), from `from`, in the current block. */
  call(from: Hex, to: Hex, fn: string, args?: unknown[], value?: bigint): Promise<CallOutcome>
  /** A view of the staking or governance contract. */
  read<T = unknown>(to: Hex, fn: string, args?: unknown[]): Promise<T>
  /** A system call to Staking, as the engine makes it (throws when it reverts). */
  system(fn: string, args?: unknown[], value?: bigint): Promise<SystemCallResult>
  /** `StakingHooks.endBlock` of the current block with these signers, then the next block. */
  endBlock(facts?: { signed?: Hex[]; missed?: Hex[]; evidence?: StakingEvidence[] }): Promise<StakingBlockResult>
  /** `StakingHooks.chainParams` in the current state (what the engine reads for each header). */
  chainParams(): Promise<ChainParams>
  /** Takes a state snapshot; `restore` goes back to it (the block too). */
  snapshot(): Promise<void>
  restore(): Promise<void>
  /** Moves to a later block without running its hooks (`seconds` of time per block). */
  skip(blocks: bigint, seconds?: bigint): void
}

/** A fresh EVM over the staking genesis of `validators` validators (devnet profile plus `over`). */
export async function stakingEvm(
  opts: {
    validators?: number
    staking?: Partial<StakingParams>
    governance?: Partial<GovParams>
    chain?: Partial<ChainParams>
  } = {},
): Promise<StakingEvm> {
  const n = opts.validators ?? 4
  const profile = stakingParamsWith('devnet', [])
  const validators = Array.from({ length: n }, (_, i) => bytesToHex(privateKeyToAddress(validatorKey(i))) as Hex)
  const alloc = await stakingGenesisAlloc({
    chainId: CHAIN_ID,
    validators: validators.map((v) => ({ operator: v, consensus: v, selfBond: 1000n * ETHER, commissionBps: 1000 })),
    staking: { ...profile.staking, ...opts.staking },
    governance: { ...profile.governance, votingPeriodBlocks: 2n, timelockBlocks: 1n, ...opts.governance },
    chain: { blockGasLimit: 30_000_000n, minBaseFee: 0n, blockTimeMs: 1000n, ...opts.chain },
  })
  const common = createCustomCommon({ chainId: Number(CHAIN_ID) }, Mainnet, { hardfork: Hardfork.Prague })
  const sm = new SimpleStateManager({ common })
  const vm = await createVM({ common, stateManager: sm })
  for (const [addr, entry] of Object.entries(alloc)) {
    const a = new EthAddress(hexToBytes(addr as Hex))
    await sm.putAccount(a, new Account(0n, BigInt(entry.balance)))
    await sm.putCode(a, hexToBytes(entry.code))
    for (const [k, v] of Object.entries(entry.storage)) {
      await sm.putStorage(a, setLengthLeft(hexToBytes(k), 32), unpadBytes(hexToBytes(v)))
    }
  }
  const block = { number: 1n, timestamp: 1_000n }
  const coinbase = new Uint8Array(20)
  const evmBlock = () => ({
    header: {
      number: block.number,
      timestamp: block.timestamp,
      coinbase: new EthAddress(coinbase),
      gasLimit: 30_000_000n,
      difficulty: 0n,
      prevRandao: new Uint8Array(32),
      mixHash: new Uint8Array(32),
      baseFeePerGas: 0n,
      getBlobGasPrice: () => 0n,
    },
  })
  const abiOf = (to: Hex) => (to.toLowerCase() === GOVERNANCE.toLowerCase() ? GOVERNANCE_ABI : STAKING_ABI)
  const hooks = new StakingHooks({}, { logger: silentLogger })
  const header = () => ({ number: block.number, timestamp: block.timestamp, coinbase })
  const saved: { number: bigint; timestamp: bigint }[] = []

  const evm: StakingEvm = {
    vm,
    sm,
    validators,
    block,
    async call(from, to, fn, args = [], value = 0n) {
      // a transaction of its own: EIP-2200's original values are those at its start (as runTx)
      sm.originalStorageCache.clear()
      const res = await vm.evm.runCall({
        caller: new EthAddress(hexToBytes(from)),
        origin: new EthAddress(hexToBytes(from)),
        to: new EthAddress(hexToBytes(to)),
        data: hexToBytes(encodeFunctionData({ abi: abiOf(to), functionName: fn, args })),
        value,
        gasLimit: TX_GAS,
        skipBalance: true,
        block: evmBlock() as never,
      })
      const r = res.execResult
      const out: CallOutcome = {
        ok: r.exceptionError === undefined,
        gasUsed: r.executionGasUsed,
        returnValue: r.returnValue,
      }
      if (!out.ok) out.error = describeRevert(abiOf(to), r.returnValue, r.exceptionError?.error)
      return out
    },
    async read(to, fn, args = []) {
      const out = await systemCall(
        vm,
        header(),
        hexToBytes(to),
        hexToBytes(encodeFunctionData({ abi: abiOf(to), functionName: fn, args })),
        0n,
        true,
      )
      return decodeFunctionResult({
        abi: abiOf(to),
        functionName: fn,
        data: bytesToHex(out.returnValue) as Hex,
      }) as never
    },
    system(fn, args = [], value = 0n) {
      return systemCall(
        vm,
        header(),
        hexToBytes(STAKING),
        hexToBytes(encodeFunctionData({ abi: STAKING_ABI, functionName: fn, args })),
        value,
      )
    },
    async endBlock(facts = {}) {
      const out = await hooks.endBlock(
        { vm, state: sm, header: header() as never, txs: [], results: [] },
        {
          signed: (facts.signed ?? validators).map((a) => hexToBytes(a)),
          missed: (facts.missed ?? []).map((a) => hexToBytes(a)),
          evidence: facts.evidence ?? [],
        },
      )
      block.number++
      block.timestamp++
      return out
    },
    chainParams() {
      return hooks.chainParams({ vm, header: header() as never })
    },
    async snapshot() {
      await sm.checkpoint()
      saved.push({ ...block })
    },
    async restore() {
      await sm.revert()
      Object.assign(block, saved.pop())
    },
    skip(blocks, seconds = 1n) {
      block.number += blocks
      block.timestamp += blocks * seconds
    },
  }
  return evm
}

/** `Name(args…)` of a custom error of `abi`, `Error("…")`, a panic code, or the EVM's exception. */
export function describeRevert(abi: Abi, data: Uint8Array, evmError?: string): string {
  if (data.length < 4) return evmError ?? 'reverted without data'
  try {
    const e = decodeErrorResult({ abi, data: bytesToHex(data) as Hex })
    return `${e.errorName}(${(e.args ?? []).map((a) => (typeof a === 'string' ? JSON.stringify(a) : String(a))).join(', ')})`
  } catch {
    return `${evmError ?? 'revert'} ${bytesToHex(data).slice(0, 74)}`
  }
}

/** A deterministic fresh address for the `i`th test account of `label`. */
export function testAccount(label: string, i: number): Hex {
  return getAddress(keccak256(toHex(`${label}-${i}`)).slice(0, 42))
}
