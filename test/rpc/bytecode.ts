// EVM bytecode assembled by hand for the RPC tests (no compiler needed), and a deploy helper.
import { receipt, result } from './live-node.ts'

export const ACCOUNT_0 = '0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266'

const hex1 = (n: number) => {
  if (n > 0xff) throw new Error(`${n} does not fit a PUSH1`)
  return n.toString(16).padStart(2, '0')
}

/** Init code that deploys `runtime` (hex without 0x; at most 255 bytes). */
export function deployer(runtime: string): string {
  const len = hex1(runtime.length / 2)
  // PUSH1 len PUSH1 12 PUSH1 0 CODECOPY PUSH1 len PUSH1 0 RETURN; the runtime starts at byte 12
  return `0x60${len}600c60003960${len}6000f3${runtime}`
}

export const TOPIC = `0x${'ab'.repeat(32)}`
/** Runtime: LOG1(topic = TOPIC, no data), then STOP. */
export const EMITTER_RUNTIME = `7f${TOPIC.slice(2)}60006000a100`
/** Runtime: SSTORE(0, CALLVALUE + 1), RETURN 32 bytes of SLOAD(0). */
export const STORE_RUNTIME = '600134016000556000546000526020' + '6000f3'
/** Runtime: an endless loop (JUMPDEST PUSH1 0 JUMP). */
export const LOOP_RUNTIME = '5b600056'

/**
 * Deploys `runtime` from ACCOUNT_0 and returns the contract address; `mine` seals the block at
 * once (for nodes that seal on an interval).
 */
export async function deploy(url: string, runtime: string, opts: { mine?: boolean } = {}): Promise<string> {
  const hash = await result<string>(url, 'eth_sendTransaction', [{ from: ACCOUNT_0, data: deployer(runtime) }])
  if (opts.mine) await result(url, 'evm_mine')
  const r = await receipt(url, hash)
  if (r.status !== '0x1') throw new Error(`deploy failed: ${JSON.stringify(r)}`)
  return r.contractAddress as string
}

/** Sends a transaction from ACCOUNT_0 and waits for its receipt. */
export async function send(url: string, tx: Record<string, unknown>): Promise<Record<string, unknown>> {
  const hash = await result<string>(url, 'eth_sendTransaction', [{ from: ACCOUNT_0, ...tx }])
  return receipt(url, hash)
}
