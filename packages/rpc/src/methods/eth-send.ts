import { decodeTransaction, seedEncodedTx, txHashHex } from '@cairn/chain'
import { blobKzg } from '@cairn/crypto'
import { type BlobSidecar, decodeBlobNetworkTx, sidecarVersionFor, toCellProofSidecar } from '@cairn/txpool'
import { bytesToHex, CairnError, hexToBytes } from '@cairn/utils'
import { createTx, createTxFromRLP, paramsTx, type TypedTransaction } from '@ethereumjs/tx'
import { Address } from '@ethereumjs/util'
import { z } from 'zod'
import { keepBlobs } from '../blob-store.ts'
import type { RpcContext } from '../context.ts'
import { RpcErrorCode } from '../errors.ts'
import { estimateGas } from '../exec.ts'
import { formatReceipts, receiptShape } from '../format.ts'
import { suggestTip } from '../gas-oracle.ts'
import { impersonatedSigner, impersonatedTx, isImpersonated } from '../impersonation.ts'
import { type MethodDef, method } from '../method.ts'
import { type CallRequest, callRequest, data, numberOrHex } from '../schemas.ts'
import { txRefusalMessage } from '../tx-errors.ts'
import { locateTx } from './eth-blocks.ts'

const ZERO_ADDRESS = '0x0000000000000000000000000000000000000000'

/** Submitting transactions: signed elsewhere (raw) or by an unlocked dev account. */

type Common = RpcContext['chain']['common']
type ParamsTable = Record<string, unknown>
/** The parts of @ethereumjs's Common that `updateParams` reads and writes. */
interface CommonState {
  _params: ParamsTable
  _hardfork: string
  _eips: unknown
  _paramsCache: unknown
}
/** Per parameter table: its entries, hardfork, EIPs and the cache right after the last `paramsTx` merge. */
const mergedTx = new WeakMap<
  ParamsTable,
  { entries: [string, unknown][]; hardfork: string; eips: unknown; cache: unknown }
>()

/**
 * `Common.updateParams`, except that merging `paramsTx` again when nothing changed since the last
 * such merge (same table entries — `updateParams` always stores new objects —, hardfork and EIPs)
 * reuses that merge's parameter cache instead of redoing it. Every transaction constructor copies
 * its Common (the copy shares the table) and merges `paramsTx`: JSON copies of each EIP's entry and
 * a rebuild of the cache over every hardfork, most of decoding a transfer and most of its garbage.
 * The merge is idempotent and the cache a function of those three (cache objects are never
 * modified once built), so the result is what the full merge gives.
 */
function updateParamsOnce(this: Common, params: ParamsTable): Common {
  const self = this as unknown as CommonState
  const last = params === paramsTx ? mergedTx.get(self._params) : undefined
  if (
    last &&
    last.hardfork === self._hardfork &&
    last.eips === self._eips &&
    last.entries.length === Object.keys(self._params).length &&
    last.entries.every(([eip, entry]) => self._params[eip] === entry)
  ) {
    self._paramsCache = last.cache
    return this
  }
  Object.getPrototypeOf(this).updateParams.call(this, params)
  if (params === paramsTx) {
    mergedTx.set(self._params, {
      entries: Object.entries(self._params),
      hardfork: self._hardfork,
      eips: self._eips,
      cache: self._paramsCache,
    })
  }
  return this
}

/**
 * `createTxFromRLP(bytes, { common })`, cheaper: `bytes` seed the encoding and hash (see
 * `seedEncodedTx`). The chain's shared Commons (whose `copy()` is themselves) already skip
 * parameter tables they merged and go to `decodeTransaction` (which builds the common EIP-1559
 * form directly): giving one {@link updateParamsOnce} would replace its own `updateParams` for
 * every later user. Any other Common is copied and the copy gets {@link updateParamsOnce}.
 */
export function decodeRawTx(common: Common, bytes: Uint8Array): TypedTransaction {
  const copy = common.copy()
  if (copy === common) return decodeTransaction(bytes, common)
  const own = Object.assign(copy, { updateParams: updateParamsOnce })
  const tx = createTxFromRLP(bytes, { common: own })
  seedEncodedTx(tx, bytes)
  return tx
}

/** A legacy transaction signed without a chain id (v = 27 or 28): valid on every chain. */
function isUnprotected(tx: TypedTransaction): boolean {
  return tx.type === 0 && (tx.v === 27n || tx.v === 28n)
}

/** Submits a local transaction to the pool (which holds a sender outrunning a dev chain's sealing). */
function addToPool(ctx: RpcContext, tx: TypedTransaction, sidecar?: BlobSidecar): Promise<Uint8Array> {
  return ctx.pool.submit(tx, sidecar ? { source: 'local', sidecar } : { source: 'local' })
}

/**
 * A raw transaction: any type in its canonical encoding, or a blob transaction in its network
 * form (with its sidecar: blobs, commitments, proofs), which is what eth_sendRawTransaction takes.
 */
function decodeRaw(ctx: RpcContext, raw: string): { tx: TypedTransaction; sidecar?: BlobSidecar } {
  const bytes = hexToBytes(raw)
  try {
    return decodeBlobNetworkTx(ctx.chain.common, bytes) ?? { tx: decodeRawTx(ctx.chain.common, bytes) }
  } catch (err) {
    throw new CairnError(RpcErrorCode.EXECUTION_FAILED, txRefusalMessage(err, ctx.chain.common.chainId()), {
      fault: 'caller',
    })
  }
}

/** The unlocked key of `req.from`, or geth's "unknown account". */
function keyOf(ctx: RpcContext, req: CallRequest): Uint8Array {
  const key = req.from ? ctx.accounts.privateKey(req.from) : undefined
  if (!key) {
    throw new CairnError(RpcErrorCode.UNKNOWN_ACCOUNT, 'unknown account', {
      fault: 'caller',
      hint: 'eth_sendTransaction signs only for the node’s unlocked accounts (eth_accounts); sign locally and use eth_sendRawTransaction',
    })
  }
  return key
}

/**
 * Fills the defaults geth fills for eth_sendTransaction and eth_fillTransaction (nonce from the
 * pool, gas by estimation, EIP-1559 fees unless a gas price is given); the result is unsigned.
 */
export async function fillRequest(ctx: RpcContext, req: CallRequest): Promise<TypedTransaction> {
  const from = req.from ?? ZERO_ADDRESS
  const { chain, pool } = ctx
  if (req.chainId !== undefined && req.chainId !== chain.chainId) {
    throw new CairnError(
      RpcErrorCode.EXECUTION_FAILED,
      `chainId does not match node's (have=${req.chainId}, want=${chain.chainId})`,
      { fault: 'caller' },
    )
  }
  const head = chain.head
  const nonce = req.nonce ?? (await pool.pendingNonce(new Address(hexToBytes(from))))
  const legacy = req.gasPrice !== undefined || req.type === 0n || req.type === 1n
  const tip = req.maxPriorityFeePerGas ?? (legacy ? 0n : await suggestTip(ctx))
  // The next block's base fee: the producer's when it sets one (anvil_setNextBlockBaseFeePerGas).
  const baseFee = ctx.producer.nextBlockEnv(head).baseFeePerGas ?? head.header.calcNextBaseFee()
  // As geth's setDefaults: the fees first, then the gas, estimated with those fees (GASPRICE and
  // the funds cap see them) in the block the transaction will be in.
  const fees = legacy
    ? { gasPrice: req.gasPrice ?? baseFee + tip }
    : { maxPriorityFeePerGas: tip, maxFeePerGas: req.maxFeePerGas ?? baseFee * 2n + tip }
  const gasLimit = req.gas ?? (await estimateGas(ctx, { ...req, ...fees }, head))
  const common = {
    nonce,
    gasLimit,
    value: req.value ?? 0n,
    data: hexToBytes(req.input ?? req.data ?? '0x'),
    ...(req.to ? { to: req.to } : {}),
  }
  const txData = legacy
    ? {
        ...common,
        type: req.accessList ? 1 : 0,
        ...fees,
        ...(req.accessList ? { accessList: req.accessList } : {}),
      }
    : {
        ...common,
        type: 2,
        ...fees,
        accessList: req.accessList ?? [],
      }
  try {
    return createTx(txData, { common: chain.common })
  } catch (err) {
    throw invalidTx(err, chain.common.chainId())
  }
}

function invalidTx(err: unknown, chainId: bigint): CairnError {
  return new CairnError(RpcErrorCode.EXECUTION_FAILED, txRefusalMessage(err, chainId), {
    fault: 'caller',
  })
}

/**
 * Pools a transaction the node made (eth_sendTransaction) and, on a dev chain sealing as
 * transactions arrive (automine), answers its hash once its block is the head — as Anvil's and
 * Hardhat's automine do, so a read right after the awaited send sees its effects — or an error when
 * it was dropped at execution instead of vanishing.
 */
async function sendAndSeal(ctx: RpcContext, tx: TypedTransaction): Promise<string> {
  const hash = await addToPool(ctx, tx)
  await ctx.dev?.awaitMined(hash)
  return bytesToHex(hash)
}

/** Fills and signs with the unlocked key of `req.from`. */
export async function signRequest(ctx: RpcContext, req: CallRequest): Promise<TypedTransaction> {
  const key = keyOf(ctx, req)
  const tx = await fillRequest(ctx, req)
  try {
    return tx.sign(key)
  } catch (err) {
    throw invalidTx(err, ctx.chain.common.chainId())
  }
}

/** eth_sendRawTransaction: decodes, checks and submits a signed transaction; its hash. */
async function sendRaw(ctx: RpcContext, raw: string): Promise<string> {
  const decoded = decodeRaw(ctx, raw)
  const { sidecar } = decoded
  let { tx } = decoded
  if (!ctx.allowUnprotectedTxs && isUnprotected(tx)) {
    throw new CairnError(
      RpcErrorCode.EXECUTION_FAILED,
      'only replay-protected (EIP-155) transactions allowed over RPC',
      {
        fault: 'caller',
        hint: 'sign with a chain id (every current wallet does), or start the node with --rpc.allow-unprotected-txs',
      },
    )
  }
  // anvil_impersonateSignature: this signature stands for an address (dev mode).
  const signer = ctx.dev ? impersonatedSigner(ctx, tx) : undefined
  if (signer) tx = await ctx.chain.dev.registerSender(tx, new Address(hexToBytes(signer as `0x${string}`)))
  // As geth from Osaka on: a sidecar with one proof per blob (what wallets and libraries made
  // for Cancun send) is checked and converted to cell proofs here, before the pool sees it.
  const converted =
    sidecar?.version === 0 && sidecarVersionFor(ctx.chain.head.header.common) === 1
      ? await toCellProofSidecar(tx, sidecar, blobKzg())
      : sidecar
  await addToPool(ctx, tx, converted)
  // Anvil keeps the blobs of mined transactions (anvil_getBlobByHash); the pool drops them.
  if (ctx.dev && sidecar) keepBlobs(ctx, tx, sidecar)
  return txHashHex(tx)
}

/** eth_sendTransaction: fills, signs (or impersonates, dev mode) and submits; its hash. */
async function sendRequest(ctx: RpcContext, req: CallRequest): Promise<string> {
  const from = req.from
  const tx =
    from && ctx.dev && !ctx.accounts.privateKey(from) && isImpersonated(ctx, from)
      ? await impersonatedTx(ctx, await fillRequest(ctx, req), from)
      : await signRequest(ctx, req)
  return sendAndSeal(ctx, tx)
}

/** How long eth_send*TransactionSync waits for the receipt by default, and at most (ms). */
const SYNC_DEFAULT_MS = 2_000
const SYNC_MAX_MS = 60_000

/** EIP-7966's optional timeout in milliseconds: a JSON integer or a hex quantity. */
const syncTimeout = numberOrHex.optional()

/**
 * EIP-7966: the receipt of a transaction just sent, once a block holds it, within `timeoutMs` (the
 * caller's, at most {@link SYNC_MAX_MS}; {@link SYNC_DEFAULT_MS} by default); else error 4 with
 * the transaction's hash in `data` (it stays in the pool).
 */
async function receiptWithin(ctx: RpcContext, hash: string, timeout: bigint | undefined): Promise<unknown> {
  const ms = Math.min(Number(timeout ?? BigInt(SYNC_DEFAULT_MS)), SYNC_MAX_MS)
  const read = async () => {
    const found = await locateTx(ctx, hash)
    if (!found) return undefined
    const receipts = await ctx.chain.getReceipts(found.block.hash())
    return receipts
      ? formatReceipts(found.block, receipts, receiptShape(ctx.limits.receiptTimestamps))[found.index]
      : undefined
  }
  const now = await read()
  if (now) return now
  return new Promise((resolve, reject) => {
    const { events } = ctx.chain
    let done = false
    const finish = (fn: () => void) => {
      if (done) return
      done = true
      clearTimeout(timer)
      events.off('newHead', onHead)
      fn()
    }
    const onHead = ({ block }: { block: { transactions: readonly { hash(): Uint8Array }[] } }) => {
      if (!block.transactions.some((t) => bytesToHex(t.hash()) === hash)) return
      read().then(
        (r) => finish(() => resolve(r ?? null)),
        (err: unknown) => finish(() => reject(err)),
      )
    }
    const timer = setTimeout(
      () =>
        finish(() =>
          reject(
            new CairnError(
              RpcErrorCode.SYNC_TIMEOUT,
              `The transaction was added to the transaction pool but wasn't processed in ${ms / 1000}s.`,
              {
                fault: 'caller',
                meta: { data: hash },
                hint: 'poll eth_getTransactionReceipt, or wait longer (timeout in ms)',
              },
            ),
          ),
        ),
      ms,
    )
    events.on('newHead', onHead)
  })
}

export const ethSendMethods: MethodDef[] = [
  method({
    name: 'eth_sendRawTransaction',
    role: 'user',
    contextFree: true,
    params: z.tuple([data]),
    handler: ([raw], ctx) => sendRaw(ctx, raw),
  }),
  method({
    // EIP-7966: sends, then answers the receipt once a block holds it (or error 4 past the timeout).
    name: 'eth_sendRawTransactionSync',
    role: 'user',
    contextFree: true,
    params: z.tuple([data, syncTimeout]),
    handler: async ([raw, timeout], ctx) => receiptWithin(ctx, await sendRaw(ctx, raw), timeout),
  }),
  method({
    name: 'eth_sendTransaction',
    role: 'user',
    weight: 5,
    params: z.tuple([callRequest]),
    handler: ([req], ctx) => sendRequest(ctx, req),
  }),
  method({
    // eth_sendTransaction answering its receipt, as EIP-7966's raw form (Anvil has both).
    name: 'eth_sendTransactionSync',
    role: 'user',
    weight: 5,
    params: z.tuple([callRequest, syncTimeout]),
    handler: async ([req, timeout], ctx) => receiptWithin(ctx, await sendRequest(ctx, req), timeout),
  }),
  method({
    // Anvil's: sends as `from` without its key or an impersonation (dev mode).
    name: 'eth_sendUnsignedTransaction',
    role: 'admin',
    devOnly: true,
    params: z.tuple([callRequest.refine((r) => r.from !== undefined, 'expected a from address')]),
    async handler([req], ctx) {
      const from = req.from as string
      return sendAndSeal(ctx, await impersonatedTx(ctx, await fillRequest(ctx, req), from))
    },
  }),
  method({
    name: 'eth_signTransaction',
    role: 'user',
    weight: 5,
    params: z.tuple([callRequest]),
    async handler([req], ctx) {
      return bytesToHex((await signRequest(ctx, req)).serialize())
    },
  }),
]
