import { bytesToHex, type Hex } from '@cairn/utils'
import type { EVMResult } from '@ethereumjs/evm'
import { Address, createAddressFromString } from '@ethereumjs/util'
import type { VM } from '@ethereumjs/vm'

// The chain's system calls: the one `systemCall` every engine hook makes (staking's, in
// @cairn/consensus), and the check of the EIP-7002/7251 request calls @ethereumjs makes at a
// block's end.

/** EIP-4788's system address: the caller of every system call. */
export const SYSTEM_CALLER = new Uint8Array(20).fill(0xff)
SYSTEM_CALLER[19] = 0xfe

/** The gas a system call may use (as EIP-4788's and EIP-7002's calls). */
export const SYSTEM_CALL_GAS = 30_000_000n

/** The block fields a system call sees (`block.number`, `block.timestamp`, `block.coinbase`). */
export interface SystemBlock {
  number: bigint
  timestamp: bigint
  coinbase: Uint8Array
  gasLimit?: bigint
}

export interface SystemCallResult {
  returnValue: Uint8Array
  logs: readonly [address: Uint8Array, topics: Uint8Array[], data: Uint8Array][]
  /** The gas the call used, of its `SYSTEM_CALL_GAS`. */
  gasUsed: bigint
  /** Why the call failed (the EVM's exception: a revert, out of gas…); undefined when it did not. */
  error?: string
}

/**
 * A system call: a message from the system address (`0xff…fe`, EIP-4788's SYSTEM_ADDRESS) into a
 * system contract, run inside the block after its transactions, the same way when producing and
 * when importing (geth's `ProcessBeaconBlockRoot`, BNB's `systemTx`, Cosmos's `EndBlock`). It pays
 * no gas and is not a transaction; the system address keeps no nonce and no balance (its account is
 * put back as it was, or deleted, afterwards). `value` is minted: the new coins a block issues.
 * A call that fails says why in `error`: what that means is the caller's (a staking hook halts).
 *
 * Each call is a message of its own, as geth's (which finalises the state after each): EIP-2200's
 * "original" storage values, which SSTORE's gas and refunds are measured from, are those at its
 * start. Sharing them with the block's last transaction or the previous system call made a call
 * that restores a slot another call cleared trap "refund exhausted"
 * (consensus/test/staking/system-call-refund.test.ts).
 */
export async function systemCall(
  vm: VM,
  block: SystemBlock,
  to: Uint8Array,
  data: Uint8Array,
  value = 0n,
  isStatic = false,
): Promise<SystemCallResult> {
  const caller = new Address(SYSTEM_CALLER)
  const before = await vm.stateManager.getAccount(caller)
  vm.stateManager.originalStorageCache.clear()
  const res: EVMResult = await vm.evm.runCall({
    caller,
    origin: caller,
    to: new Address(to),
    data,
    value,
    gasLimit: SYSTEM_CALL_GAS,
    skipBalance: true,
    skipNonceIncrement: true,
    isStatic,
    block: evmBlock(block) as never,
  })
  vm.stateManager.originalStorageCache.clear()
  if (before === undefined) await vm.stateManager.deleteAccount(caller)
  else await vm.stateManager.putAccount(caller, before)
  const err = res.execResult.exceptionError
  return {
    returnValue: res.execResult.returnValue,
    logs: (res.execResult.logs ?? []) as SystemCallResult['logs'],
    gasUsed: res.execResult.executionGasUsed,
    ...(err !== undefined ? { error: err.error } : {}),
  }
}

/** The block object the EVM reads `NUMBER`, `TIMESTAMP`, `COINBASE`… from. */
function evmBlock(b: SystemBlock): unknown {
  return {
    header: {
      number: b.number,
      timestamp: b.timestamp,
      coinbase: new Address(b.coinbase),
      gasLimit: b.gasLimit ?? 0n,
      difficulty: 0n,
      prevRandao: new Uint8Array(32),
      mixHash: new Uint8Array(32),
      baseFeePerGas: 0n,
      getBlobGasPrice: () => 0n,
    },
  }
}

/** EIP-7002's withdrawal-request contract (Prague). */
export const WITHDRAWAL_REQUEST_ADDRESS: Hex = '0x00000961ef480eb55e80d19ad83579a64c007002'
/** EIP-7251's consolidation-request contract (Prague). */
export const CONSOLIDATION_REQUEST_ADDRESS: Hex = '0x0000bbddc7ce488642fb579f8b00f3a590007251'

/** The request contracts a block's end calls, with the EIP that makes each call. */
const REQUEST_CONTRACTS: [eip: number, address: Hex][] = [
  [7002, WITHDRAWAL_REQUEST_ADDRESS],
  [7251, CONSOLIDATION_REQUEST_ADDRESS],
]

/**
 * Runs `finalize` (the BlockBuilder's `build`, which makes the EIP-7002 and EIP-7251 system calls)
 * and says why the block is invalid when one of those calls fails: the contract has no code, or
 * the call reverts or runs out of gas (EIP-7002/7251 as finalized in Prague; geth's
 * `processRequestsSystemCall`). @ethereumjs skips a call to an address without code and keeps
 * whatever a failed call returned as the requests.
 *
 * `tolerated` lists the contracts whose absence is accepted: those a chain's genesis activates
 * Prague without (see {@link toleratedMissingContracts}).
 */
export async function checkedRequestCalls<T>(
  vm: VM,
  tolerated: ReadonlySet<Hex>,
  finalize: () => Promise<T>,
): Promise<{ result: T; failure?: string }> {
  const active = REQUEST_CONTRACTS.filter(([eip]) => vm.common.isActivatedEIP(eip))
  for (const [eip, address] of active) {
    if (tolerated.has(address)) continue
    const code = await vm.stateManager.getCode(createAddressFromString(address))
    if (code.length === 0) {
      return { result: undefined as T, failure: `EIP-${eip} system contract ${address} has no code` }
    }
  }
  if (active.length === 0) return { result: await finalize() }
  const evm = vm.evm as unknown as { runCall: (opts: { to?: { bytes: Uint8Array } }) => Promise<EVMResult> }
  const runCall = evm.runCall
  let failure: string | undefined
  evm.runCall = async (opts) => {
    const res = await runCall.call(evm, opts)
    const to = opts.to ? bytesToHex(opts.to.bytes) : undefined
    const call = active.find(([, address]) => address === to)
    if (call && failure === undefined && res.execResult.exceptionError) {
      failure = `EIP-${call[0]} system call to ${call[1]} failed: ${res.execResult.exceptionError.error}`
    }
    return res
  }
  try {
    const result = await finalize()
    return failure === undefined ? { result } : { result, failure }
  } finally {
    evm.runCall = runCall
  }
}

/**
 * The request contracts whose absence a chain accepts: those missing from its genesis `alloc`
 * when its genesis already runs Prague (no `pragueTime` after genesis). Such a chain never had
 * them (a Cairn dev chain created before its genesis deployed them): refusing every block would
 * strand it. Where Prague comes by a scheduled fork, the contracts must be deployed by then, as on
 * mainnet, and a block without them is invalid.
 */
export function toleratedMissingContracts(
  alloc: ReadonlyMap<Hex, { code?: Uint8Array }>,
  config: { pragueTime?: unknown } | undefined,
): Set<Hex> {
  const out = new Set<Hex>()
  const scheduled = typeof config?.pragueTime === 'number' && config.pragueTime > 0
  if (scheduled) return out
  for (const [, address] of REQUEST_CONTRACTS) {
    const code = alloc.get(address)?.code
    if (code === undefined || code.length === 0) out.add(address)
  }
  return out
}
