// The execution side: turns an opportunity into an ArbExecutor.execute call, proves it by eth_call
// against the pending block (and estimates its gas there), then signs and sends it and reads the
// realised profit from the receipt's Executed event.
import { arbExecutor } from '@cairn/contracts'
import { CairnError, type Logger } from '@cairn/utils'
import {
  type Abi,
  type Account,
  BaseError,
  ContractFunctionRevertedError,
  decodeEventLog,
  decodeFunctionData,
  encodeFunctionData,
  type Hex,
  type PublicClient,
  WaitForTransactionReceiptTimeoutError,
  type WalletClient,
} from 'viem'
import { ArbErrorCode } from '../errors.ts'
import type { Address, TokenGraph } from '../graph/token-graph.ts'
import type { Opportunity } from '../strategy/search.ts'
import { bumpFees } from './nonce-manager.ts'
import { type RevertEvidence, revertEvidence } from './revert-evidence.ts'

export const arbExecutorAbi = arbExecutor.abi as Abi

/** One hop as ArbExecutor takes it. */
export interface ExecutorHop {
  pair: Address
  /** The token the hop sells: the contract swaps the pair's balance of it above its reserve. */
  tokenIn: Address
  zeroForOne: boolean
  feeNum: number
  feeDen: number
  minOut: bigint
}

export interface ExecutorClientOptions {
  /** The deployed ArbExecutor. */
  address: Address
  /**
   * Where a trade's input comes from: `flash` borrows the cycle's output from its last pair (no
   * capital in the contract), `capital` pays from the contract's balance of the base token, `auto`
   * uses the balance when it covers the input and a flash swap otherwise (one balance read per
   * simulation). Default `flash` (or `capital` when `flash: false`).
   */
  funding?: Funding
  /** Shorthand of `funding`: true = flash, false = capital. */
  flash?: boolean
  /**
   * Each hop's least output as a share of the expected one, in basis points below it (0: no per-hop
   * bound, only the final profit check). Default 0.
   */
  hopSlippageBps?: number
  /**
   * A trade not mined after this long is sent again with the same nonce and fees raised by
   * `bumpPercent` (a stuck transaction replaced); 0 or absent: wait for it as sent.
   */
  replaceAfterMs?: number
  /** Fee raise per replacement, percent (default 12.5; nodes require ≥ 10 on both fees). */
  bumpPercent?: number
  /** Replacements at most per trade (default 3); then it waits for whichever lands. */
  maxReplacements?: number
  /**
   * How long a trade may take to land after its first send, replacements included (default
   * 180,000 ms, viem's own receipt timeout). Past it, `execute` fails with `ARB_TRADE_STUCK`: the
   * transaction stays in the node's pool holding its nonce (typically priced out under the gas
   * price cap), and the engine opens its breaker.
   */
  stuckTimeoutMs?: number
}

export interface ExecutorClientModules {
  public: PublicClient
  wallet: WalletClient
  account: Account
  logger: Logger
  /** The live per-hop bound (the service's configuration), read per trade; `opts.hopSlippageBps` when absent. */
  hopSlippageBps?: () => number
  /** The gas price cap in force: a replacement never offers more (wei per gas). */
  gasPriceCap?: () => bigint | undefined
  /** Milliseconds now (tests pass a fake clock; default Date.now). */
  now?: () => number
}

export type Funding = 'flash' | 'capital' | 'auto'

/** How a trade is sent. */
export interface SendOptions {
  gas: bigint
  maxFeePerGas?: bigint
  maxPriorityFeePerGas?: bigint
  nonce?: number
  /** Flash swap or the contract's balance (the simulation's choice); the client's funding when absent. */
  flash?: boolean
  /**
   * The contract's least profit for a send offering `maxFeePerGas` (the engine: the gas at that
   * fee plus its minimum). A replacement pays more per gas, so it asks the contract for more:
   * the trade still lands only if it nets the minimum after the raised gas, or reverts. Absent:
   * every send asks `minProfit`.
   */
  minProfitAt?: (maxFeePerGas: bigint) => bigint
}

export type Simulation =
  | { ok: true; profit: bigint; gas: bigint /** Simulated (and to be sent) with a flash swap. */; flash?: boolean }
  | {
      ok: false
      reason: string
      revert?: string | undefined
      /** Where the path failed, when the contract said (see revert-evidence.ts). */
      evidence?: RevertEvidence | undefined
      flash?: boolean
    }

/** A sent trade: its hash, and its receipt (with replacements while it waits) on `wait()`. */
export interface Submission {
  hash: Hex
  /** The calldata it was sent with (what a later trade's bundle simulation runs before it). */
  data: Hex
  wait(): Promise<Execution>
}

export interface Execution {
  hash: Hex
  status: 'success' | 'reverted'
  gasUsed: bigint
  effectiveGasPrice: bigint
  /** The base-token profit the contract reported (0n when reverted). */
  profit: bigint
  blockNumber: bigint
}

/**
 * Gas a V2 pair may use beyond an estimate made in another block: its `_update` writes the two
 * cumulative prices only when the block's timestamp moved since the pair's last update (zero →
 * non-zero the first time: 2 × ~22k). An estimate made in the same second as the last update
 * does not see it; the mined transaction may.
 */
export const V2_PAIR_GAS_SLACK = 45_000n

/**
 * The gas limit to send with: the estimate plus `marginPercent`, plus the pairs' slack per hop.
 * It is also what the engine prices a trade's gas at, so the net profit is a floor.
 */
export function gasLimitFor(estimate: bigint, hops: number, marginPercent = 20): bigint {
  return (estimate * BigInt(100 + marginPercent)) / 100n + V2_PAIR_GAS_SLACK * BigInt(hops)
}

/** The arguments of ArbExecutor.execute for an opportunity. */
export function executeArgs(
  graph: TokenGraph,
  o: Opportunity,
  minProfit: bigint,
  flash: boolean,
  hopSlippageBps = 0,
): readonly [Address, bigint, bigint, ExecutorHop[], boolean] {
  const last = o.cycle.pools.length - 1
  const hops = o.cycle.pools.map((a, i): ExecutorHop => {
    const p = graph.pool(a)!
    if (p.fee.den > 0xffffffffn || p.fee.num > p.fee.den)
      throw new CairnError(ArbErrorCode.CONFIG, `pool ${a} has a fee ArbExecutor cannot express`, {
        fault: 'caller',
      })
    const expected = o.hopOuts[i] ?? 0n
    // with a flash swap the last hop's bound is the loan: the cycle's expected output (0: the
    // contract computes it along the path, fee-blind)
    const minOut =
      flash && i === last ? expected : hopSlippageBps > 0 ? (expected * BigInt(10_000 - hopSlippageBps)) / 10_000n : 0n
    return {
      pair: a,
      tokenIn: o.cycle.tokens[i]!,
      zeroForOne: o.cycle.tokens[i] === p.token0,
      feeNum: Number(p.fee.num),
      feeDen: Number(p.fee.den),
      minOut,
    }
  })
  return [o.cycle.tokens[0]!, o.amountIn, minProfit < 1n ? 1n : minProfit, hops, flash]
}

const balanceOfAbi = [
  {
    type: 'function',
    name: 'balanceOf',
    stateMutability: 'view',
    inputs: [{ name: 'account', type: 'address' }],
    outputs: [{ name: '', type: 'uint256' }],
  },
] as const

export class ExecutorClient {
  readonly funding: Funding
  private readonly hopSlippageBps: number

  constructor(
    private readonly opts: ExecutorClientOptions,
    private readonly modules: ExecutorClientModules,
  ) {
    this.funding = opts.funding ?? (opts.flash === false ? 'capital' : 'flash')
    this.hopSlippageBps = opts.hopSlippageBps ?? 0
  }

  /**
   * Runs the trade with eth_call against the pending block: the profit the contract would report
   * and the gas it would use. A revert (another trade moved a pool, too little profit) is
   * `{ok: false}` with the contract's error name.
   */
  async simulate(graph: TokenGraph, o: Opportunity, minProfit: bigint): Promise<Simulation> {
    let flash = this.funding === 'flash'
    if (this.funding === 'auto') {
      try {
        flash = (await this.capital(o.cycle.tokens[0]!)) < o.amountIn
      } catch (err) {
        return { ok: false, reason: shortReason(err) }
      }
    }
    const args = executeArgs(graph, o, minProfit, flash, this.modules.hopSlippageBps?.() ?? this.hopSlippageBps)
    const call = {
      address: this.opts.address,
      abi: arbExecutorAbi,
      functionName: 'execute',
      args,
      account: this.modules.account,
      blockTag: 'pending',
    } as const
    try {
      // both at once: one round trip less between a block and the trade; a revert fails both, and
      // the call's error (not whichever came first) is the one reported
      const [sim, est] = await Promise.allSettled([
        this.modules.public.simulateContract(call),
        this.modules.public.estimateContractGas(call),
      ])
      if (sim.status === 'rejected') throw sim.reason
      if (est.status === 'rejected') throw est.reason
      return { ok: true, profit: sim.value.result as bigint, gas: est.value, flash }
    } catch (err) {
      return { ok: false, reason: shortReason(err), revert: revertName(err), evidence: revertEvidence(err), flash }
    }
  }

  /**
   * Runs the trade as sized with eth_call (flash, no gas estimate): its outcome tells what the
   * pools paid — the engine's probe of tokens whose transfer fee it does not know yet. A revert is
   * `{ok: false}` with its evidence.
   */
  async probe(graph: TokenGraph, o: Opportunity): Promise<Simulation> {
    try {
      const r = await this.modules.public.simulateContract({
        address: this.opts.address,
        abi: arbExecutorAbi,
        functionName: 'execute',
        args: executeArgs(graph, o, 1n, true, 0),
        account: this.modules.account,
        blockTag: 'pending',
      })
      return { ok: true, profit: r.result as bigint, gas: 0n, flash: true }
    } catch (err) {
      return {
        ok: false,
        reason: shortReason(err),
        revert: revertName(err),
        evidence: revertEvidence(err),
        flash: true,
      }
    }
  }

  /**
   * Runs the trade after `before` (calldata of our trades sent and not mined yet, in nonce order)
   * in one simulated block on top of `blockNumber` (eth_simulateV1): a bundle simulation, so a
   * trade through pools an earlier one of ours moves is proven on the reserves that one leaves,
   * whatever the node's `pending` holds. Flash funding (the engine's batches are).
   */
  async simulateAfter(
    graph: TokenGraph,
    o: Opportunity,
    minProfit: bigint,
    before: readonly Hex[],
    blockNumber: bigint,
  ): Promise<Simulation> {
    const { account } = this.modules
    const args = executeArgs(graph, o, minProfit, true, this.modules.hopSlippageBps?.() ?? this.hopSlippageBps)
    const to = this.opts.address
    try {
      const [block] = await this.modules.public.simulateBlocks({
        blockNumber,
        blocks: [
          {
            // a raw call per earlier trade, then ours decoded (viem's types take one shape per list)
            calls: [
              ...before.map((data) => ({ account, to, data })),
              { account, to, abi: arbExecutorAbi, functionName: 'execute', args },
            ] as never,
          },
        ],
      })
      const own = (block as unknown as { calls: SimulatedCall[] }).calls.at(-1)!
      if (own.status === 'success') return { ok: true, profit: own.result as bigint, gas: own.gasUsed, flash: true }
      const err = own.error
      return {
        ok: false,
        reason: shortReason(err),
        revert: revertName(err),
        evidence: revertEvidence(err),
        flash: true,
      }
    } catch (err) {
      return { ok: false, reason: shortReason(err), flash: true }
    }
  }

  /**
   * Why a mined trade reverted: its block replayed up to it on its parent (eth_simulateV1, the
   * block's number and time), the contract's error name (`InsufficientProfit`, a hop's pair
   * reason…). Undefined when the node cannot replay it.
   */
  async revertReason(hash: Hex): Promise<{ revert?: string | undefined; evidence?: RevertEvidence | undefined }> {
    const pub = this.modules.public
    try {
      const receipt = await pub.getTransactionReceipt({ hash })
      const block = await pub.getBlock({ blockNumber: receipt.blockNumber, includeTransactions: true })
      const upTo = block.transactions.slice(0, receipt.transactionIndex + 1)
      const own = upTo.at(-1)!
      const { functionName, args } = decodeFunctionData({ abi: arbExecutorAbi, data: own.input })
      const [sim] = await pub.simulateBlocks({
        blockNumber: block.number - 1n,
        blocks: [
          {
            blockOverrides: { number: block.number, time: block.timestamp },
            calls: [
              ...upTo.slice(0, -1).map((t) => ({
                account: t.from,
                to: t.to,
                data: t.input,
                value: t.value,
                gas: t.gas,
              })),
              { account: own.from, to: own.to!, abi: arbExecutorAbi, functionName, args: args ?? [], gas: own.gas },
            ],
          },
        ],
      })
      const err = (sim as unknown as { calls: SimulatedCall[] }).calls.at(-1)!.error
      return err ? { revert: revertName(err), evidence: revertEvidence(err) } : {}
    } catch {
      return {}
    }
  }

  /** The executor contract's balance of `token` at the pending block (its capital). */
  capital(token: Address): Promise<bigint> {
    return this.modules.public.readContract({
      address: token,
      abi: balanceOfAbi,
      functionName: 'balanceOf',
      args: [this.opts.address],
      blockTag: 'pending',
    })
  }

  /**
   * Signs and sends the trade (with `gas` from the simulation plus a margin) and waits for its
   * receipt. A revert on chain is an Execution with status 'reverted', not a throw.
   */
  async execute(graph: TokenGraph, o: Opportunity, minProfit: bigint, tx: SendOptions): Promise<Execution> {
    return (await this.submit(graph, o, minProfit, tx)).wait()
  }

  /** Waits for a submitted trade's receipt (replacing it while it waits): its execution. */
  settle(_o: Opportunity, s: Submission): Promise<Execution> {
    return s.wait()
  }

  /**
   * Signs and sends the trade and returns once the node took it: its hash, and `wait()` for its
   * receipt (replacing it while it waits, see `replaceAfterMs`). The engine sends a block's trades
   * one after another this way, with consecutive nonces, before waiting for any.
   */
  async submit(graph: TokenGraph, o: Opportunity, minProfit: bigint, tx: SendOptions): Promise<Submission> {
    const { wallet, public: pub, account, logger } = this.modules
    const slippage = this.modules.hopSlippageBps?.() ?? this.hopSlippageBps
    const flash = tx.flash ?? this.funding !== 'capital'
    let args = executeArgs(graph, o, minProfit, flash, slippage)
    const send = (fees: { maxFeePerGas?: bigint; maxPriorityFeePerGas?: bigint }, nonce: number | undefined) =>
      wallet.writeContract({
        address: this.opts.address,
        abi: arbExecutorAbi,
        functionName: 'execute',
        args,
        account,
        chain: wallet.chain ?? null,
        gas: tx.gas,
        ...(fees.maxFeePerGas !== undefined ? { maxFeePerGas: fees.maxFeePerGas } : {}),
        ...(fees.maxPriorityFeePerGas !== undefined ? { maxPriorityFeePerGas: fees.maxPriorityFeePerGas } : {}),
        ...(nonce !== undefined ? { nonce } : {}),
      })
    let fees = { maxFeePerGas: tx.maxFeePerGas, maxPriorityFeePerGas: tx.maxPriorityFeePerGas }
    const clock = this.modules.now ?? Date.now
    const stuckAfter = this.opts.stuckTimeoutMs ?? 180_000
    const sentAt = clock()
    const first = await send(fees, tx.nonce)
    const wait = async (): Promise<Execution> => {
      let hash = first
      const after = this.opts.replaceAfterMs ?? 0
      let replacements = after > 0 ? (this.opts.maxReplacements ?? 3) : 0
      let receipt: Awaited<ReturnType<typeof pub.waitForTransactionReceipt>> | null = null
      while (receipt === null) {
        const left = sentAt + stuckAfter - clock()
        if (left <= 0) throw stuck(hash, tx.nonce, clock() - sentAt)
        try {
          // viem follows a replacement: if an earlier hash with this nonce lands instead, its receipt comes back
          receipt = await pub.waitForTransactionReceipt({
            hash,
            pollingInterval: 50,
            timeout: replacements > 0 ? Math.min(after, left) : left,
          })
        } catch (err) {
          if (!(err instanceof WaitForTransactionReceiptTimeoutError)) throw err
          // no replacement left, or the deadline came first: the loop's check decides
          if (replacements === 0 || clock() - sentAt >= stuckAfter) continue
          replacements--
          const sent = await pub.getTransaction({ hash })
          const now = await pub.estimateFeesPerGas()
          const bumped = bumpFees(
            {
              maxFeePerGas: sent.maxFeePerGas ?? now.maxFeePerGas,
              maxPriorityFeePerGas: sent.maxPriorityFeePerGas ?? now.maxPriorityFeePerGas,
            },
            now,
            this.opts.bumpPercent ?? 12.5,
            this.modules.gasPriceCap?.(),
          )
          if (!bumped) {
            // a higher offer would pass the gas price cap: the trade stays in the pool as sent (it holds
            // the nonce; nothing sent after it could land first) and we wait for it until the deadline
            logger.warn(
              {
                tx: hash,
                nonce: sent.nonce,
                maxFeePerGas: sent.maxFeePerGas?.toString(),
                deadlineMs: Math.max(0, sentAt + stuckAfter - clock()),
              },
              'trade stuck at the gas price cap: waiting for it as sent',
            )
            replacements = 0
            continue
          }
          fees = bumped
          logger.warn(
            { tx: hash, nonce: sent.nonce, maxFeePerGas: bumped.maxFeePerGas.toString() },
            'trade stuck: replacing it',
          )
          if (tx.minProfitAt) args = executeArgs(graph, o, tx.minProfitAt(bumped.maxFeePerGas), flash, slippage)
          try {
            const replaced = hash
            hash = await send(fees, sent.nonce)
            logger.info(
              {
                tx: hash,
                replaces: replaced,
                nonce: sent.nonce,
                maxFeePerGas: bumped.maxFeePerGas.toString(),
                maxPriorityFeePerGas: bumped.maxPriorityFeePerGas.toString(),
                minProfit: args[2].toString(),
              },
              'replacement sent',
            )
          } catch (sendErr) {
            // the original landed meanwhile (nonce too low) or the node refused: wait for what was sent
            logger.info({ tx: hash, err: (sendErr as Error).message }, 'replacement not sent')
            replacements = 0
          }
        }
      }
      return this.executionOf(receipt, o)
    }
    return {
      hash: first,
      data: encodeFunctionData({ abi: arbExecutorAbi, functionName: 'execute', args }),
      wait,
    }
  }

  private executionOf(
    receipt: Awaited<ReturnType<PublicClient['waitForTransactionReceipt']>>,
    o: Opportunity,
  ): Execution {
    let profit = 0n
    for (const l of receipt.logs) {
      if (l.address.toLowerCase() !== this.opts.address.toLowerCase()) continue
      try {
        const ev = decodeEventLog({ abi: arbExecutorAbi, data: l.data, topics: l.topics })
        if (ev.eventName === 'Executed') profit = (ev.args as unknown as { profit: bigint }).profit
      } catch {
        // not one of ours
      }
    }
    // the hash that landed: viem answers an earlier send's receipt when that one was mined instead
    const landed = receipt.transactionHash
    this.modules.logger.info(
      {
        tx: landed,
        status: receipt.status,
        cycle: o.cycle.key,
        profit: profit.toString(),
        gasUsed: receipt.gasUsed.toString(),
      },
      'trade mined',
    )
    return {
      hash: landed,
      status: receipt.status,
      gasUsed: receipt.gasUsed,
      effectiveGasPrice: receipt.effectiveGasPrice,
      profit,
      blockNumber: receipt.blockNumber,
    }
  }
}

/** One call's outcome in an eth_simulateV1 block, as viem gives it. */
type SimulatedCall =
  | { status: 'success'; result: unknown; gasUsed: bigint; error?: undefined }
  | { status: 'failure'; result?: undefined; gasUsed: bigint; error: Error }

function stuck(hash: Hex, nonce: number | undefined, waitedMs: number): CairnError<'ARB_TRADE_STUCK'> {
  return new CairnError(
    ArbErrorCode.TRADE_STUCK,
    `trade ${hash} not mined within ${Math.round(waitedMs / 1000)} s${nonce === undefined ? '' : ` (nonce ${nonce})`}`,
    {
      fault: 'transient',
      meta: { hash, nonce, waitedMs },
      hint: 'it stays in the pool holding its nonce: raise the gas price cap so a replacement can pass it, or wait for it to land, then reset the breaker',
    },
  )
}

/**
 * What a reverted call said: the custom error's name (`InsufficientProfit`), the message of an
 * `Error(string)` (a pair's `UniswapV2: K`), a panic's reason, or `revert` for a bare revert;
 * undefined when the failure was not a revert (the RPC, a timeout).
 */
export function revertName(err: unknown): string | undefined {
  if (!(err instanceof BaseError)) return undefined
  const r = err.walk((e) => e instanceof ContractFunctionRevertedError)
  if (!(r instanceof ContractFunctionRevertedError)) return undefined
  const name = r.data?.errorName
  if (name !== undefined && name !== 'Error' && name !== 'Panic') return name
  return r.reason ?? name ?? 'revert'
}

function shortReason(err: unknown): string {
  if (err instanceof BaseError) return err.shortMessage
  return err instanceof Error ? err.message : String(err)
}
