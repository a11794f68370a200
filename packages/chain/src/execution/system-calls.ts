import { bytesToHex, type Hex } from '@cairn/utils'
import type { EVMResult } from '@ethereumjs/evm'
import { createAddressFromString } from '@ethereumjs/util'
import type { VM } from '@ethereumjs/vm'

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
