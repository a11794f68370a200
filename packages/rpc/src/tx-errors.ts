import { errorMessage } from '@cairn/utils'

/**
 * The message for a transaction @ethereumjs refused, as geth words it where geth refuses the same
 * thing, else @ethereumjs's own words prefixed `invalid transaction: `. @ethereumjs appends the
 * transaction's fields (" (tx type=…)"); its chain-id mismatches print the source of a function
 * (typed transactions) or tell the caller to pass a `common` option to a JavaScript factory (an
 * EIP-155 legacy transaction): both become geth's `invalid sender: invalid chain id for signer:
 * have X want Y` (its pool's ErrInvalidSender wrapping the signer's ErrInvalidChainId), and a
 * legacy `v` that is neither 27/28 nor EIP-155 its `invalid sender: invalid transaction v, r, s
 * values`.
 */
export function txRefusalMessage(err: unknown, chainId: bigint): string {
  const message = errorMessage(err).split(' (tx type')[0] ?? ''
  const derived = /not matching the derived chain ID (\d+)/.exec(message)
  if (derived) return wrongChain(BigInt(derived[1] as string), chainId)
  // An EIP-155 legacy transaction: v = chainId * 2 + 35 or 36.
  const eip155 = /^Incompatible EIP155-based V (\d+) and chain id \d+/.exec(message)
  if (eip155) return wrongChain((BigInt(eip155[1] as string) - 35n) / 2n, chainId)
  const badV = /^Legacy txs need either v = 27\/28 or v >= 37 \(EIP-155 replay protection\), got v = (\d+)/.exec(
    message,
  )
  if (badV) {
    // v = 35 or 36 is EIP-155 for chain 0; any other is no signature geth can read.
    const v = BigInt(badV[1] as string)
    return v === 35n || v === 36n ? wrongChain(0n, chainId) : 'invalid sender: invalid transaction v, r, s values'
  }
  return `invalid transaction: ${message}`
}

function wrongChain(have: bigint, want: bigint): string {
  return `invalid sender: invalid chain id for signer: have ${have} want ${want}`
}
