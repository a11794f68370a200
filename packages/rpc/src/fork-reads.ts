import type { ChainFork } from '@cairn/chain'
import { bytesToHex, hexToBytes, toQuantity } from '@cairn/utils'
import type { RpcContext } from './context.ts'
import type { MethodDef } from './method.ts'
import type { BlockRef, LogFilter } from './schemas.ts'

/**
 * Fork mode (`--fork-url`): the blocks at and below the fork block are the remote's, as Anvil
 * answers them; so are the fields of an account nothing local has asked for (see untouchedRead). The local chain starts at the fork block with its header only (its transactions
 * ran on the remote) and holds nothing below, so these reads go to the remote: blocks by number
 * or hash, transactions and receipts by hash, and the part of a log range at or below the fork
 * block. The remote's answers at those heights cannot change: kept (non-null ones) per chain.
 * Any other read, and every read of a chain that is not a fork, is the method's own.
 */

/** Most remote answers kept per chain (the oldest dropped first). */
const CACHE_ENTRIES = 4096

const caches = new WeakMap<object, Map<string, unknown>>()

async function remote<T>(ctx: RpcContext, fork: ChainFork, method: string, params: unknown[]): Promise<T> {
  let cache = caches.get(ctx.chain)
  if (!cache) {
    cache = new Map()
    caches.set(ctx.chain, cache)
  }
  const key = `${method}:${JSON.stringify(params)}`
  if (cache.has(key)) return cache.get(key) as T
  const answer = await fork.call<T>(method, params)
  if (answer !== null && answer !== undefined) {
    if (cache.size >= CACHE_ENTRIES) cache.delete(cache.keys().next().value as string)
    cache.set(key, answer)
  }
  return answer
}

/** The height a block reference names ('earliest' is 0; the head's tags its height), or undefined (a hash, pending). */
function heightOf(ref: BlockRef, ctx: RpcContext): bigint | undefined {
  if (typeof ref === 'bigint') return ref
  if (ref === 'earliest') return 0n
  if (ref === 'latest' || ref === 'safe' || ref === 'finalized') return ctx.chain.head.header.number
  if (typeof ref === 'object' && 'blockNumber' in ref) return ref.blockNumber
  return undefined
}

/** The block number of a remote JSON object (a block, transaction or receipt), or undefined. */
function numberOf(o: unknown): bigint | undefined {
  const n = (o as { number?: string; blockNumber?: string } | null)?.blockNumber ?? (o as { number?: string })?.number
  return typeof n === 'string' ? BigInt(n) : undefined
}

/** A remote answer when it lies at or below the fork block; else undefined. */
function atOrBelow<T>(answer: T, fork: ChainFork): T | undefined {
  const n = numberOf(answer)
  return n !== undefined && n <= fork.blockNumber ? answer : undefined
}

type Handler = MethodDef['handler']

/** Whether a block reference names the head (where an untouched account's fields are the remote's). */
function atHead(ref: unknown): boolean {
  return ref === undefined || ref === 'latest'
}

/**
 * An account read at the head, answered from the remote when nothing local has asked for the
 * account (ChainFork.untouched): its fields are the remote's at the fork block, and one plain
 * read there (eth_getBalance…) costs the remote less than the proof the local trie needs (an
 * Anvil remote builds its trie for each proof). The proof is fetched in the background, so later
 * reads, and any write, are the local trie's.
 */
function untouchedRead(method: string, normalize: (answer: string) => string, withSlot = false) {
  return (own: Handler): Handler =>
    async (params, ctx, call) => {
      const fork = ctx.chain.fork
      const [addr, second, third] = params as [string, unknown, unknown]
      const ref = withSlot ? third : second
      if (fork === undefined || !atHead(ref) || !fork.untouched(addr)) return own(params, ctx, call)
      const at = toQuantity(fork.blockNumber)
      const args = withSlot ? [addr, toQuantity(second as bigint), at] : [addr, at]
      const answer = await fork.call<string>(method, args)
      fork.warm(addr)
      return normalize(answer)
    }
}

const quantity = (answer: string) => toQuantity(BigInt(answer))
const data = (answer: string) => bytesToHex(hexToBytes(answer as `0x${string}`))
const word = (answer: string) => `0x${BigInt(answer).toString(16).padStart(64, '0')}`

const WRAPPERS: Record<string, (own: Handler) => Handler> = {
  eth_getBalance: untouchedRead('eth_getBalance', quantity),
  eth_getTransactionCount: untouchedRead('eth_getTransactionCount', quantity),
  eth_getCode: untouchedRead('eth_getCode', data),
  eth_getStorageAt: untouchedRead('eth_getStorageAt', word, true),
  eth_getBlockByNumber: (own) => async (params, ctx, call) => {
    const fork = ctx.chain.fork
    const [ref, full] = params as [BlockRef, boolean | undefined]
    const n = fork ? heightOf(ref, ctx) : undefined
    if (fork === undefined || n === undefined || n > fork.blockNumber) return own(params, ctx, call)
    return remote(ctx, fork, 'eth_getBlockByNumber', [toQuantity(n), full ?? false])
  },
  eth_getBlockByHash: (own) => async (params, ctx, call) => {
    const fork = ctx.chain.fork
    const local = await own(params, ctx, call)
    // The local fork block has the remote's hash but not its transactions: the remote's, too.
    if (fork === undefined || (numberOf(local) ?? -1n) > fork.blockNumber) return local
    const [hash, full] = params as [string, boolean | undefined]
    return atOrBelow(await remote(ctx, fork, 'eth_getBlockByHash', [hash, full ?? false]), fork) ?? local
  },
  eth_getTransactionByHash: (own) => byHashLocalFirst(own, 'eth_getTransactionByHash'),
  eth_getTransactionReceipt: (own) => byHashLocalFirst(own, 'eth_getTransactionReceipt'),
  eth_getLogs: (own) => async (params, ctx, call) => {
    const fork = ctx.chain.fork
    if (fork === undefined) return own(params, ctx, call)
    const [filter] = params as [LogFilter]
    const wire = {
      ...(filter.address !== undefined ? { address: filter.address } : {}),
      ...(filter.topics !== undefined ? { topics: filter.topics } : {}),
    }
    if (filter.blockHash !== undefined) {
      const block = await ctx.chain.getBlock(hexToBytes(filter.blockHash))
      if (block && block.header.number > fork.blockNumber) return own(params, ctx, call)
      return remote(ctx, fork, 'eth_getLogs', [{ ...wire, blockHash: filter.blockHash }])
    }
    const from = bound(filter.fromBlock, ctx)
    const to = bound(filter.toBlock, ctx)
    if (from === undefined || from > fork.blockNumber || (to !== undefined && to < from)) return own(params, ctx, call)
    const remoteTo = to === undefined || to > fork.blockNumber ? fork.blockNumber : to
    const before = await remote<unknown[]>(ctx, fork, 'eth_getLogs', [
      { ...wire, fromBlock: toQuantity(from), toBlock: toQuantity(remoteTo) },
    ])
    if (to !== undefined && to <= fork.blockNumber) return before
    const after = (await own([{ ...filter, fromBlock: fork.blockNumber + 1n }], ctx, call)) as unknown[]
    return [...before, ...after]
  },
}

/** A range bound as a number: tags resolve against the local head ('earliest' is 0). */
function bound(ref: LogFilter['fromBlock'], ctx: RpcContext): bigint | undefined {
  if (typeof ref === 'bigint') return ref
  if (ref === 'earliest') return 0n
  if (ref === undefined || ref === 'latest' || ref === 'safe' || ref === 'finalized')
    return ctx.chain.head.header.number
  return undefined // pending: the method's own answer (refused)
}

/** The local answer, else the remote's when it lies at or below the fork block. */
function byHashLocalFirst(own: Handler, name: string): Handler {
  return async (params, ctx, call) => {
    const local = await own(params, ctx, call)
    const fork = ctx.chain.fork
    if (local !== null || fork === undefined) return local
    return atOrBelow(await remote(ctx, fork, name, params as unknown[]), fork) ?? null
  }
}

/** The methods with the reads below a fork's first block answered from the remote (see above). */
export function withForkReads(methods: MethodDef[]): MethodDef[] {
  return methods.map((m) => {
    const wrap = WRAPPERS[m.name]
    return wrap ? { ...m, handler: wrap(m.handler.bind(m)) } : m
  })
}
