import type { VM } from '@ethereumjs/vm'
import { RpcErrorCode } from '../errors.ts'
import { applyAccountOverride } from '../state-override.ts'
import { simError } from './errors.ts'
import type { SimStateOverride } from './schema.ts'

/**
 * geth's StateOverride.Apply for a simulated block: accounts in address order; balance, nonce,
 * code, full storage (`state`) or some slots (`stateDiff`); `movePrecompileToAddress` moves a
 * precompile's function to another address (the precompile's own address then runs what code it
 * has, none by default). Errors are geth's (-32000). Returns the addresses precompiles were moved
 * to (unprefixed lowercase hex).
 */
export async function applySimStateOverride(vm: VM, override: SimStateOverride): Promise<Set<string>> {
  const sm = vm.stateManager
  const precompiles = (vm.evm as unknown as { precompiles: Map<string, unknown> }).precompiles
  const moved = new Set<string>()
  const entries = Object.entries(override) as [`0x${string}`, SimStateOverride[`0x${string}`]][]
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  for (const [addr, o] of entries) {
    const key = addr.slice(2)
    if (moved.has(key)) throw failed(`account ${addr} has already been overridden by a precompile`)
    const fn = precompiles.get(key)
    if (o.movePrecompileToAddress !== undefined) {
      if (!fn) throw failed(`account ${addr} is not a precompile`)
      const target = o.movePrecompileToAddress
      if (override[target] !== undefined) throw failed(`account ${target} is already overridden`)
      precompiles.set(target.slice(2), fn)
      moved.add(target.slice(2))
    }
    if (fn) precompiles.delete(key)
    if (o.state && o.stateDiff) throw failed(`account ${addr} has both 'state' and 'stateDiff'`)
    await applyAccountOverride(sm, addr, o)
  }
  return moved
}

function failed(message: string) {
  return simError(RpcErrorCode.EXECUTION_FAILED, message)
}
