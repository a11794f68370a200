import { CairnError } from '@cairn/utils'
import { RpcErrorCode } from '../errors.ts'

/** eth_simulateV1's refusals, worded as geth words them (internal/ethapi/simulate.go, errors.go). */

type SimCode = (typeof RpcErrorCode)[keyof typeof RpcErrorCode]

export function simError(code: SimCode, message: string): CairnError {
  return new CairnError(code, message, { fault: 'caller' })
}

/** A call refused before it ran: geth prefixes "err: " and appends the gas it was given. */
export function txRefused(code: SimCode, message: string, gas: bigint): CairnError {
  return simError(code, `err: ${message} (supplied gas ${gas})`)
}

export const tooManyBlocks = () => simError(RpcErrorCode.CLIENT_LIMIT, 'too many blocks')
export const tooManyCalls = () => simError(RpcErrorCode.CLIENT_LIMIT, 'too many calls')
