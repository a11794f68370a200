import { bytesToHex, CairnError } from '@cairn/utils'
import type { Block, BlockHeader } from '@ethereumjs/block'
import { ConsensusType } from '@ethereumjs/common'
import { equalsBytes, KECCAK256_RLP_ARRAY, MAX_UINT64 } from '@ethereumjs/util'
import { ChainErrorCode } from '../errors.ts'
import { checkRlpBlockSize } from '../rules/block-size-limit.ts'
import { orderedTrieRoot } from '../state/ordered-trie.ts'
import { encodedTx } from '../state/tx-cache.ts'

const GAS_LIMIT_BOUND_DIVISOR = 1024n
/** Ethereum's cap on a header's extra data (bytes). */
export const MAX_EXTRA_DATA = 32
const MIN_GAS_LIMIT = 5000n

/**
 * The engine-independent checks of a block against its parent, before execution: numbering,
 * time, gas limit bounds, EIP-1559 base fee, EIP-4844 excess blob gas, extra data size (before the
 * merge; after it the engine's rule, see {@link validateExtraData}), EIP-7934's limit on the
 * block's encoded size (Osaka on: {@link checkRlpBlockSize}), and the
 * block's own data (transactions root, uncle hash (no uncles after the merge), withdrawals root).
 * Proof-of-work blocks' difficulty and uncles are checked by `./pow.ts`. Each transaction's own
 * validity (signature, fees, blob gas) is checked as it executes ({@link TxChecks}).
 *
 * Together the same checks and messages as `block.validateData(false, true)`, faster: the
 * transactions root is computed in one pass over the encodings the store needs anyway
 * ({@link orderedTrieRoot}) instead of inserting each transaction into a trie.
 */
export async function validateBlock(block: Block, parent: Block, rules: HeaderRules = {}): Promise<void> {
  const h = block.header
  const fail = (why: string) =>
    new CairnError(ChainErrorCode.BLOCK_INVALID, `block ${h.number} ${bytesToHex(block.hash())}: ${why}`, {
      fault: 'caller',
    })
  const why = headerAgainstParent(h, parent.header, rules)
  if (why) throw fail(why)
  checkRlpBlockSize(block)
  if (h.common.consensusType() === ConsensusType.ProofOfWork) {
    if (!block.uncleHashIsValid()) throw fail('invalid uncle hash')
  } else {
    if (block.uncleHeaders.length > 0) throw fail('uncles are not allowed')
    if (!equalsBytes(h.uncleHash, KECCAK256_RLP_ARRAY)) throw fail('invalid uncle hash')
    // What @ethereumjs's proof-of-stake format check did (headers are built without it: the extra data is the engine's).
    if (!equalsBytes(h.nonce, new Uint8Array(8))) throw fail('nonce is not zero')
  }
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

/** What the engine changes of the header checks (`ChainEngine.baseFeeFloor`). */
export interface HeaderRules {
  /** A base fee above EIP-1559's is the engine's to check (a governance floor); below it is invalid. */
  baseFeeFloor?: boolean
  /** Block-DAG headers (`ChainEngine.dagHeaders`): a timestamp may equal the parent's; extra data is the engine's. */
  dagHeaders?: boolean
}

/**
 * Why header `h` cannot follow `p`, or undefined: numbering, time, gas limit bounds (doubled at
 * the London block, EIP-1559's elasticity), gas used, extra data, the EIP-1559 base fee (the
 * initial one at the London block; at least that with `rules.baseFeeFloor`) and EIP-4844 excess
 * blob gas. Also applied to uncles.
 */
export function headerAgainstParent(h: BlockHeader, p: BlockHeader, rules: HeaderRules = {}): string | undefined {
  if (h.number !== p.number + 1n) return `number is not parent's + 1 (parent ${p.number})`
  if (h.number > MAX_UINT64) return `number ${h.number} does not fit 64 bits`
  if (rules.dagHeaders === true ? h.timestamp < p.timestamp : h.timestamp <= p.timestamp)
    return `timestamp ${h.timestamp} is not after the parent's ${p.timestamp}`
  if (h.timestamp > MAX_UINT64) return `timestamp ${h.timestamp} does not fit 64 bits`
  if (h.gasLimit < MIN_GAS_LIMIT) return `gas limit ${h.gasLimit} is below ${MIN_GAS_LIMIT}`
  const londonBlock = h.baseFeePerGas !== undefined && p.baseFeePerGas === undefined
  const parentLimit = londonBlock ? p.gasLimit * h.common.param('elasticityMultiplier') : p.gasLimit
  const bound = parentLimit / GAS_LIMIT_BOUND_DIVISOR
  const diff = h.gasLimit > parentLimit ? h.gasLimit - parentLimit : parentLimit - h.gasLimit
  if (diff >= bound) return `gas limit ${h.gasLimit} moves more than 1/1024 from the parent's ${parentLimit}`
  if (h.gasUsed > h.gasLimit) return `gas used ${h.gasUsed} exceeds the gas limit ${h.gasLimit}`
  // After the merge the extra data's shape is the engine's (a BFT commit certificate is longer):
  // ChainEngine.validateHeader checks it (`validateExtraData` for the usual 32-byte cap).
  if (
    rules.dagHeaders !== true &&
    h.common.consensusType() === ConsensusType.ProofOfWork &&
    h.extraData.length > MAX_EXTRA_DATA
  ) {
    return `extra data is ${h.extraData.length} bytes, more than ${MAX_EXTRA_DATA}`
  }
  if (h.baseFeePerGas !== undefined) {
    const expected = londonBlock ? h.common.param('initialBaseFee') : p.calcNextBaseFee()
    if (rules.baseFeeFloor === true && !londonBlock) {
      if (h.baseFeePerGas < expected) return `base fee ${h.baseFeePerGas} is below EIP-1559's ${expected}`
    } else if (h.baseFeePerGas !== expected) return `base fee ${h.baseFeePerGas} is not the expected ${expected}`
  }
  if (h.excessBlobGas !== undefined) {
    const expected = p.calcNextExcessBlobGas(h.common)
    if (h.excessBlobGas !== expected) return `excess blob gas ${h.excessBlobGas} is not the expected ${expected}`
  }
  return undefined
}

/**
 * Ethereum's rule for extra data (at most 32 bytes), for engines that keep it (dev, import);
 * after the merge the extra data's shape is the engine's to check (`ChainEngine.validateHeader`).
 */
export function validateExtraData(h: BlockHeader, max = MAX_EXTRA_DATA): void {
  if (h.extraData.length > max) {
    throw new CairnError(
      ChainErrorCode.BLOCK_INVALID,
      `block ${h.number} ${bytesToHex(h.hash())}: extra data is ${h.extraData.length} bytes, more than ${max}`,
      { fault: 'caller' },
    )
  }
}
