import { bytesToHex, CairnError } from '@cairn/utils'
import type { Block } from '@ethereumjs/block'
import { equalsBytes, KECCAK256_RLP_ARRAY } from '@ethereumjs/util'
import { ChainErrorCode } from './errors.ts'
import { orderedTrieRoot } from './ordered-trie.ts'
import { encodedTx } from './tx-cache.ts'

const GAS_LIMIT_BOUND_DIVISOR = 1024n
const MIN_GAS_LIMIT = 5000n

/**
 * The engine-independent checks of a block against its parent, before execution: numbering,
 * time, gas limit bounds, EIP-1559 base fee, EIP-4844 excess blob gas, extra data size, and the
 * block's own data (transactions root, no uncles, withdrawals root). Each transaction's own
 * validity (signature, fees, blob gas) is checked as it executes ({@link TxChecks}).
 *
 * Together the same checks and messages as `block.validateData(false, true)`, faster: the
 * transactions root is computed in one pass over the encodings the store needs anyway
 * ({@link orderedTrieRoot}) instead of inserting each transaction into a trie.
 */
export async function validateBlock(block: Block, parent: Block): Promise<void> {
  const h = block.header
  const p = parent.header
  const fail = (why: string) =>
    new CairnError(ChainErrorCode.BLOCK_INVALID, `block ${h.number} ${bytesToHex(block.hash())}: ${why}`, {
      fault: 'caller',
    })
  if (h.number !== p.number + 1n) throw fail(`number is not parent's + 1 (parent ${p.number})`)
  if (h.timestamp <= p.timestamp) throw fail(`timestamp ${h.timestamp} is not after the parent's ${p.timestamp}`)
  if (h.gasLimit < MIN_GAS_LIMIT) throw fail(`gas limit ${h.gasLimit} is below ${MIN_GAS_LIMIT}`)
  const bound = p.gasLimit / GAS_LIMIT_BOUND_DIVISOR
  const diff = h.gasLimit > p.gasLimit ? h.gasLimit - p.gasLimit : p.gasLimit - h.gasLimit
  if (diff >= bound) throw fail(`gas limit ${h.gasLimit} moves more than 1/1024 from the parent's ${p.gasLimit}`)
  if (h.gasUsed > h.gasLimit) throw fail(`gas used ${h.gasUsed} exceeds the gas limit ${h.gasLimit}`)
  if (h.extraData.length > 32) throw fail(`extra data is ${h.extraData.length} bytes, more than 32`)
  if (h.baseFeePerGas !== undefined) {
    const expected = p.calcNextBaseFee()
    if (h.baseFeePerGas !== expected) throw fail(`base fee ${h.baseFeePerGas} is not the expected ${expected}`)
  }
  if (h.excessBlobGas !== undefined) {
    const expected = p.calcNextExcessBlobGas(h.common)
    if (h.excessBlobGas !== expected) throw fail(`excess blob gas ${h.excessBlobGas} is not the expected ${expected}`)
  }
  if (block.uncleHeaders.length > 0) throw fail('uncles are not allowed')
  if (!equalsBytes(h.uncleHash, KECCAK256_RLP_ARRAY)) throw fail('invalid uncle hash')
  if (!equalsBytes(orderedTrieRoot(block.transactions.map(encodedTx)), h.transactionsTrie)) {
    throw fail('invalid transaction trie')
  }
  let withdrawalsValid = true
  try {
    withdrawalsValid = !block.common.isActivatedEIP(4895) || (await block.withdrawalsTrieIsValid())
  } catch (err) {
    throw fail((err as Error).message.split(' (block number')[0] ?? 'invalid withdrawals')
  }
  if (!withdrawalsValid) throw fail('invalid withdrawals trie')
}
