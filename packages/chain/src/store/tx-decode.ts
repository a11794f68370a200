import type { Common } from '@ethereumjs/common'
import { createTxFromRLP, type TypedTransaction } from '@ethereumjs/tx'
import { seedEncodedTx } from '../state/tx-cache.ts'
import { feeMarketTx } from './fee-market-tx.ts'

/**
 * A transaction from its canonical encoding (`createTxFromRLP(bytes, { common })`), with `bytes`
 * kept as its encoding and hash (`seedEncodedTx`).
 *
 * An EIP-1559 transaction in the form nearly all of them take (signed, a 20-byte recipient, no
 * access list, every field in range) is built directly (`../fast/fee-market-tx.ts`): @ethereumjs's decoder copies each
 * field, converts integers through hex strings, checks them through `Object.entries` and spreads
 * the fields into a second object — ~15 KB allocated and 13–20 µs per transaction, once per
 * transaction on every node that receives it (RPC, gossip, a block's body). The object built is
 * the one @ethereumjs builds: same class, same own properties in the same order, same values,
 * frozen (`tx-decode.test.ts` compares them property by property over random and mutated
 * encodings). Anything else — another type, an access list, a contract creation, a value out of
 * range, an encoding that is not canonical — goes to @ethereumjs's decoder, which builds it or
 * throws its own error: this path never accepts what @ethereumjs would refuse, since each check
 * it makes only decides whether to build here or hand over. A chain in reference mode
 * (`reference: true`) hands everything over.
 */
export function decodeTransaction(bytes: Uint8Array, common: Common): TypedTransaction {
  const tx = (bytes[0] === 2 ? feeMarketTx(bytes, common) : undefined) ?? createTxFromRLP(bytes, { common })
  seedEncodedTx(tx, bytes)
  return tx
}
