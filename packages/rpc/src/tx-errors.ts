import { errorMessage } from '@cairn/utils'

/**
 * What was wrong with a transaction @ethereumjs refused, in words a wallet user can act on.
 * @ethereumjs appends the transaction's fields (" (tx type=…)"), and its chain-id mismatch prints
 * the source of a function instead of the chain id: that one is rewritten as geth says it.
 */
export function describeTxError(err: unknown, chainId: bigint): string {
  const message = errorMessage(err).split(' (tx type')[0] ?? ''
  const derived = /not matching the derived chain ID (\d+)/.exec(message)
  if (derived) {
    return `invalid chain id for signer: have ${derived[1]} want ${chainId} (the transaction is signed for chain ${derived[1]}; this chain is ${chainId})`
  }
  return message
}
