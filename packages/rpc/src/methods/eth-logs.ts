import { blockLogs, type LogEntry } from '@cairn/chain'
import { bytesToHex, CairnError, hexToBytes } from '@cairn/utils'
import { z } from 'zod'
import type { RpcContext } from '../context.ts'
import { invalidParams, notFound, RpcErrorCode } from '../errors.ts'
import { formatLog } from '../format.ts'
import { logMatcher } from '../log-filter.ts'
import { type MethodDef, method } from '../method.ts'
import { findBlock } from '../resolve.ts'
import { type LogFilter, logFilter } from '../schemas.ts'

/** eth_getLogs over the canonical chain, within the configured range and result limits. */
export async function getLogs(ctx: RpcContext, filter: LogFilter): Promise<LogEntry[]> {
  const { chain } = ctx
  const matches = logMatcher(filter)
  const out: LogEntry[] = []
  if (filter.blockHash) {
    if (filter.fromBlock !== undefined || filter.toBlock !== undefined) {
      throw invalidParams("can't specify fromBlock/toBlock with blockHash")
    }
    const block = await chain.getBlock(hexToBytes(filter.blockHash))
    if (!block) throw notFound('unknown block')
    const receipts = (await chain.getReceipts(block.hash())) ?? []
    return blockLogs(block, receipts, false).filter(matches)
  }
  const { a, b } = await blockRange(ctx, filter)
  if (b - a + 1n > BigInt(ctx.limits.logsBlockRange)) {
    throw new CairnError(
      RpcErrorCode.LIMIT,
      `query exceeds max block range ${ctx.limits.logsBlockRange}; narrow fromBlock/toBlock`,
      { fault: 'caller' },
    )
  }
  for (let n = a; n <= b; n++) {
    const block = n === chain.head.header.number ? chain.head : await chain.getBlockByNumber(n)
    if (!block || !maybeContains(block.header.logsBloom, filter)) continue
    const receipts = (await chain.getReceipts(block.hash())) ?? []
    for (const log of blockLogs(block, receipts, false)) {
      if (!matches(log)) continue
      out.push(log)
      if (out.length > ctx.limits.logsLimit) {
        throw new CairnError(
          RpcErrorCode.LIMIT,
          `query returned more than ${ctx.limits.logsLimit} results; narrow the block range (last block scanned: ${bytesToHex(block.hash())}, number ${n})`,
          { fault: 'caller' },
        )
      }
    }
  }
  return out
}

/**
 * The numbers a range filter spans, resolved and checked as geth does: tags become the block they
 * name now, a range that is reversed (also a fromBlock past the head with toBlock latest) is
 * "invalid block range params", one that reaches past the head "block range extends beyond current
 * head block" (both -32602), and `pending` is refused.
 */
async function blockRange(ctx: RpcContext, filter: LogFilter): Promise<{ a: bigint; b: bigint }> {
  if (filter.fromBlock === 'pending' || filter.toBlock === 'pending') {
    throw invalidParams('pending logs are not supported')
  }
  const head = ctx.chain.head.header.number
  const a = await numberOf(ctx, filter.fromBlock ?? 'latest', head)
  const b = await numberOf(ctx, filter.toBlock ?? 'latest', head)
  if (a > b) throw invalidParams('invalid block range params')
  if (b > head) throw invalidParams('block range extends beyond current head block')
  return { a, b }
}

async function numberOf(ctx: RpcContext, ref: bigint | string, head: bigint): Promise<bigint> {
  if (typeof ref === 'bigint') return ref
  if (ref === 'latest') return head
  const block = await findBlock(ctx, ref as 'earliest' | 'safe' | 'finalized')
  if (!block) throw new CairnError(RpcErrorCode.NOT_FOUND, `${ref} header not found`, { fault: 'caller' })
  return block.header.number
}

/** A bloom pre-check: false only when the block certainly has no matching log. */
function maybeContains(bloom: Uint8Array, filter: LogFilter): boolean {
  return bloom.some((b) => b !== 0) || (!filter.address && !filter.topics?.length)
}

export const ethLogMethods: MethodDef[] = [
  method({
    name: 'eth_getLogs',
    weight: 10,
    readThread: 'forward',
    params: z.tuple([logFilter]),
    async handler([filter], ctx) {
      return (await getLogs(ctx, filter)).map(formatLog)
    },
  }),
]
