import { hexToBytes } from '@cairn/utils'
import { createTx, type TypedTransaction } from '@ethereumjs/tx'
import { Address } from '@ethereumjs/util'
import type { VM } from '@ethereumjs/vm'
import { RpcErrorCode } from '../errors.ts'
import { simError } from './errors.ts'
import type { SimCall } from './schema.ts'

/** What a simulated call runs as. */
export interface SimTx {
  tx: TypedTransaction
  from: Address
  /** The gas the call was given (after the request's gas budget). */
  gas: bigint
  /** True when the request's gas budget cut the gas the call asked for. */
  capped: boolean
}

/**
 * The transaction a simulated call runs as, built as geth builds it (sanitizeCall, CallDefaults,
 * ToTransaction with a dynamic-fee default): unsigned (zero signature), so its hash is geth's.
 * - gas: the call's, else what the block has left; then at most what the request's budget has
 *   left. No EIP-7825 cap (geth skips the transaction checks in a simulation).
 * - nonce: the call's, else the sender's; 2^64-1 runs (geth's nonce is a uint64 that wraps).
 * - type: 4 with an authorization list, 3 with blob hashes, legacy when `gasPrice` is given (an
 *   access list is then dropped) or the block has no base fee, else 2 (dynamic fee); an access
 *   list alone does not make type 1.
 * - fees default to zero; chainId to the chain's (another one is refused, -32000).
 * The gas limit and nonce are set after construction: @ethereumjs refuses a gas limit above the
 * EIP-7825 cap and the nonce 2^64-1 when it builds a transaction.
 */
export async function toSimTx(
  vm: VM,
  call: SimCall,
  opts: { remaining: bigint; budget: bigint; chainId: bigint; london: boolean },
): Promise<SimTx> {
  const from = new Address(hexToBytes(call.from ?? `0x${'00'.repeat(20)}`))
  const requested = call.gas ?? opts.remaining
  if (requested > opts.remaining) {
    throw simError(
      RpcErrorCode.SIM_BLOCK_GAS_LIMIT,
      `block gas limit reached: remaining: ${opts.remaining}, required: ${requested}`,
    )
  }
  const gas = requested < opts.budget ? requested : opts.budget
  const capped = gas < requested
  if (call.gasPrice !== undefined && (call.maxFeePerGas !== undefined || call.maxPriorityFeePerGas !== undefined)) {
    throw failed('both gasPrice and (maxFeePerGas or maxPriorityFeePerGas) specified')
  }
  if (call.chainId !== undefined && call.chainId !== opts.chainId) {
    throw failed(`chainId does not match node's (have=${call.chainId}, want=${opts.chainId})`)
  }
  const nonce = call.nonce ?? (await vm.stateManager.getAccount(from))?.nonce ?? 0n
  const legacy = call.gasPrice !== undefined || !opts.london
  const type = legacy ? 0 : call.authorizationList ? 4 : call.blobVersionedHashes ? 3 : 2
  const fields: Record<string, unknown> = {
    type,
    nonce: 0n,
    gasLimit: 0n,
    value: call.value ?? 0n,
    data: call.input ?? call.data ?? '0x',
    ...(call.to ? { to: call.to } : {}),
    v: 0n,
    r: 0n,
    s: 0n,
  }
  if (type === 0) {
    fields.gasPrice = call.gasPrice ?? 0n
  } else {
    fields.chainId = opts.chainId
    fields.accessList = call.accessList ?? []
    fields.maxFeePerGas = call.maxFeePerGas ?? 0n
    fields.maxPriorityFeePerGas = call.maxPriorityFeePerGas ?? 0n
  }
  if (type === 3) {
    fields.maxFeePerBlobGas = call.maxFeePerBlobGas ?? 0n
    fields.blobVersionedHashes = call.blobVersionedHashes
  }
  if (type === 4) fields.authorizationList = call.authorizationList
  let tx: TypedTransaction
  try {
    tx = createTx(fields as Parameters<typeof createTx>[0], { common: vm.common, freeze: false })
  } catch (err) {
    throw simError(RpcErrorCode.INVALID_PARAMS, `invalid call: ${(err as Error).message.split('\n')[0]}`)
  }
  const writable = tx as unknown as { gasLimit: bigint; nonce: bigint }
  writable.gasLimit = gas
  writable.nonce = nonce
  tx.getSenderAddress = () => from
  return { tx, from, gas, capped }
}

function failed(message: string) {
  return simError(RpcErrorCode.EXECUTION_FAILED, message)
}
