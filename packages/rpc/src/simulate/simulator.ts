import { allowCodeSender, logsBloom, type RawLog, receiptsRoot, type StoredReceipt } from '@cairn/chain'
import { bytesToHex, CairnError, hexToBytes, toQuantity } from '@cairn/utils'
import {
  Block,
  type BlockHeader,
  createBlock,
  createBlockHeader,
  genTransactionsTrieRoot,
  genWithdrawalsTrieRoot,
} from '@ethereumjs/block'
import { Common, Hardfork } from '@ethereumjs/common'
import { bytesToNibbles, type MerklePatriciaTrie } from '@ethereumjs/mpt'
import type { TypedTransaction } from '@ethereumjs/tx'
import { type Address, createWithdrawal, equalsBytes, setLengthLeft, toChecksumAddress } from '@ethereumjs/util'
import { createVM, type RunTxResult, runTx, type VM } from '@ethereumjs/vm'
import type { RpcContext } from '../context.ts'
import { RpcErrorCode } from '../errors.ts'
import { decodeRevertReason } from '../exec.ts'
import { formatBlock } from '../format.ts'
import { gethError } from '../trace/tracer.ts'
import { finishBlock, type SimWithdrawal } from './block-end.ts'
import { type PlannedBlock, planBlocks } from './chain.ts'
import { simError, tooManyCalls, txRefused } from './errors.ts'
import { type SimLog, SimLogTracer } from './log-tracer.ts'
import { applySimStateOverride } from './overrides.ts'
import type { SimOptions } from './schema.ts'
import { preExecution } from './system-calls.ts'
import { toSimTx } from './tx.ts'

/** Most calls in one simulated block and in one request (geth's limits). */
const MAX_CALLS_PER_BLOCK = 5000
const MAX_CALLS = 10_000
const ZERO32 = new Uint8Array(32)
/** A nonce is a uint64 in geth: 2^64-1 is the largest, and one more wraps to 0. */
const NONCE_LIMIT = 1n << 64n

interface CallResult {
  returnData: string
  logs: Record<string, unknown>[]
  gasUsed: string
  maxUsedGas: string
  status: string
  error?: { code: number; message: string; data?: string }
}

/**
 * eth_simulateV1 (execution-apis src/eth/execute.yaml; geth internal/ethapi/simulate.go): the
 * blocks of `opts` built one after another on the state after `base`, over one private state
 * whose writes never reach the chain's store. Each call runs as a transaction (nonces move, fees
 * are paid, logs are kept) from its `from`, unsigned; each block runs under its own fork's rules
 * and ends as a real block does (EIP-7685 requests, the block reward before the merge,
 * withdrawals), and its header carries the real post-state root, so its hash is the one geth
 * gives it. Calls from accounts with code run (geth skips EIP-3607 in a simulation).
 */
/** Listeners around each simulated call (trace_callMany traces through them). */
export interface SimHooks {
  /** Each VM the simulation runs (one per fork): attach EVM listeners. */
  attach(vm: VM): void
  beforeCall?(): void
  /** After a call ran as a transaction (its writes applied to the private state). */
  afterCall?(r: RunTxResult, tx: TypedTransaction): void
}

export async function simulate(
  ctx: RpcContext,
  opts: SimOptions,
  base: Block,
  hooks?: SimHooks,
): Promise<Record<string, unknown>[]> {
  const blocks = planBlocks(opts.blockStateCalls, base.header)
  let total = 0
  for (const b of blocks) {
    const n = b.calls?.length ?? 0
    if (n > MAX_CALLS_PER_BLOCK) throw tooManyCalls()
    total += n
  }
  if (total > MAX_CALLS) throw tooManyCalls()
  const first = blocks[0]
  if (!first) return []
  const rules = blockRules(ctx, base.header, first)
  const vm = await ctx.chain.vmAt(base.header, rules.common)
  // The private state's writes stay in this checkpoint until a block ends (see stateRoot).
  await vm.stateManager.checkpoint()
  skipEmptyStorageTries(vm)
  const hashes = new Map<bigint, Uint8Array>()
  routeBlockHashes(vm, hashes)
  const sim: Sim = {
    ctx,
    vm,
    opts,
    tracer: opts.traceTransfers ? new SimLogTracer() : undefined,
    ...(hooks ? { hooks } : {}),
    deadline: Date.now() + ctx.limits.evmTimeoutMs,
    gasBudget: ctx.limits.gasCap,
    vms: new Map(),
    rulesets: new WeakMap(),
    movedTo: new Set(),
  }
  instrument(sim, vm, rules.common)
  const out: Record<string, unknown>[] = []
  let parent = base.header
  for (const planned of blocks) {
    const { block, calls } = await simulateBlock(sim, planned, parent)
    hashes.set(block.header.number, block.hash())
    out.push({ ...formatBlock(block, opts.returnFullTransactions ?? false), calls: withBlockHash(calls, block) })
    parent = block.header
  }
  return out
}

interface Sim {
  ctx: RpcContext
  /** The VM of the block running now (one per fork, all over one state manager). */
  vm: VM
  opts: SimOptions
  tracer: SimLogTracer | undefined
  hooks?: SimHooks
  deadline: number
  /** Gas left for the whole request (the RPC gas cap, as geth's gasBudget). */
  gasBudget: bigint
  /** The VM of each fork the simulated blocks run under. */
  vms: Map<Common, VM>
  /** Each VM's ruleset precompiles, every block's starting set. */
  rulesets: WeakMap<VM, Map<string, unknown>>
  /** Where this block's overrides moved precompiles to (cold unless accessed, as in geth). */
  movedTo: Set<string>
  /** The access-listed addresses of the call running now. */
  accessListed?: Set<string>
}

/**
 * The difficulty and rules of a simulated block, as geth's makeHeaders: after the merge (the
 * parent is proof-of-stake, or the block is at Shanghai or later) difficulty 0, before it the
 * parent's; an override wins. The fork follows from number, time and difficulty.
 */
function blockRules(
  ctx: RpcContext,
  parent: BlockHeader,
  planned: PlannedBlock,
): { common: Common; difficulty: bigint } {
  const o = planned.blockOverrides
  const commons = ctx.chain.commons
  const key = { number: o.number, timestamp: o.time }
  const merged = parent.difficulty === 0n || commons.at({ ...key, difficulty: 0n }).gteHardfork(Hardfork.Shanghai)
  const difficulty = o.difficulty ?? (merged ? 0n : parent.difficulty)
  return { common: commons.at({ ...key, difficulty }), difficulty }
}

/** The VM of `common`'s fork over the simulation's one state (made on first use, as the executor's useFork). */
async function useFork(sim: Sim, common: Common): Promise<VM> {
  let vm = sim.vms.get(common)
  if (!vm) {
    const { stateManager, blockchain } = sim.vm
    // A Common of its own (chain's ownCopy): the VM's EVM subscribes to it.
    vm = await createVM({ common: Common.prototype.copy.call(common), stateManager, blockchain })
    instrument(sim, vm, common)
  }
  sim.vm = vm
  return vm
}

/** Hooks a fork's VM the way a simulation needs (see each). */
function instrument(sim: Sim, vm: VM, common: Common): void {
  sim.vms.set(common, vm)
  const ruleset = new Map(precompilesOf(vm))
  sim.rulesets.set(vm, ruleset)
  warmRulesetPrecompiles(vm, ruleset)
  coolMovedPrecompiles(sim, vm)
  sim.tracer?.attach(vm)
  sim.hooks?.attach(vm)
}

/**
 * The state root after the block's writes: the checkpoint that holds them is committed, which
 * writes them into the private trie (the state's own store view, never the chain's store), and a
 * new one opened for the next block. The read-through state stays right after such a flush: its
 * caches are unbounded (@ethereumjs's ordered maps), so every account or slot written is still
 * read from them or from the private trie, never from the base view it reads through.
 */
async function stateRoot(vm: VM): Promise<Uint8Array> {
  const sm = vm.stateManager
  await sm.commit()
  const root = await sm.getStateRoot()
  await sm.checkpoint()
  return root
}
function precompilesOf(vm: VM): Map<string, unknown> {
  return (vm.evm as unknown as { precompiles: Map<string, unknown> }).precompiles
}

/**
 * As geth, the ruleset's precompile addresses are warm in every call even when an override moved
 * the precompile away or gave its address code (@ethereumjs warms what its precompile map holds).
 */
function warmRulesetPrecompiles(vm: VM, ruleset: Map<string, unknown>): void {
  const journal = vm.evm.journal as unknown as { isWarmedAddress(address: Uint8Array): boolean }
  const isWarm = journal.isWarmedAddress.bind(journal)
  journal.isWarmedAddress = (address: Uint8Array) => isWarm(address) || ruleset.has(bytesToHex(address).slice(2))
}

/**
 * @ethereumjs warms every address its precompile map holds, so a precompile's new address would be
 * warm; geth warms the ruleset's addresses only. When the transaction's first message starts (after
 * runTx warmed its addresses), a moved-to address that is not the sender, recipient, coinbase or in
 * the access list is made cold again.
 */
function coolMovedPrecompiles(sim: Sim, vm: VM): void {
  const journal = vm.evm.journal as unknown as { alwaysWarmJournal: Map<string, Set<string>> }
  vm.evm.events?.on('beforeMessage', (m: { depth: number; caller: Address; to?: Address }) => {
    if (m.depth !== 0 || sim.movedTo.size === 0) return
    for (const addr of sim.movedTo) {
      if (addr === m.caller.toString().slice(2) || addr === m.to?.toString().slice(2)) continue
      const slots = journal.alwaysWarmJournal.get(addr)
      if (slots && slots.size === 0 && !sim.accessListed?.has(addr)) journal.alwaysWarmJournal.delete(addr)
    }
  })
}

function resetPrecompiles(vm: VM, original: Map<string, unknown>): void {
  const current = precompilesOf(vm)
  current.clear()
  for (const [k, v] of original) current.set(k, v)
}

/** The block a call runs in when its fee cap is under the base fee outside validation (geth's NoBaseFee). */
function withoutBaseFee(env: Block): Block {
  const header = { ...(env.header.toJSON() as Record<string, unknown>), baseFeePerGas: 0n }
  return createBlock({ header }, { common: env.common, skipConsensusFormatValidation: true })
}

/**
 * A storage trie with no slots answers every read and delete at once. @ethereumjs/mpt looks its
 * root up in the database first, where the empty root is not stored, and throws and catches an
 * error each time: ~16 times a block (the system contracts' empty slots), a tenth of a simulated
 * block's time.
 */
function skipEmptyStorageTries(vm: VM): void {
  type Trie = MerklePatriciaTrie & { EMPTY_TRIE_ROOT: Uint8Array }
  const sm = vm.stateManager as unknown as { _getStorageTrie(address: Address, account: unknown): Trie }
  const storageTrie = sm._getStorageTrie.bind(sm)
  const patched = new WeakSet<Trie>()
  sm._getStorageTrie = (address, account) => {
    // The state manager keeps a trie per account: patch each once.
    const trie = storageTrie(address, account)
    if (patched.has(trie)) return trie
    patched.add(trie)
    const findPath = trie.findPath.bind(trie)
    trie.findPath = async (key, ...rest) =>
      equalsBytes(trie.root(), trie.EMPTY_TRIE_ROOT)
        ? { node: null, remaining: Array.from(bytesToNibbles(key)), stack: [] }
        : findPath(key, ...rest)
    return trie
  }
}

/** BLOCKHASH of a simulated block answers its hash; older ones the chain's. */
function routeBlockHashes(vm: VM, hashes: Map<bigint, Uint8Array>): void {
  type HashOnly = { hash(): Uint8Array }
  const chain = (vm.evm as unknown as { blockchain: { getBlock(n: number): Promise<HashOnly> } }).blockchain
  const getBlock = chain.getBlock.bind(chain)
  chain.getBlock = async (n: number) => {
    const hash = hashes.get(BigInt(n))
    return hash ? { hash: () => hash } : getBlock(n)
  }
}

async function simulateBlock(sim: Sim, planned: PlannedBlock, parent: BlockHeader) {
  const { opts } = sim
  const o = planned.blockOverrides
  const { common, difficulty } = blockRules(sim.ctx, parent, planned)
  const vm = await useFork(sim, common)
  const validation = opts.validation ?? false
  const london = common.isActivatedEIP(1559)
  const cancun = common.isActivatedEIP(4844)
  const shanghai = common.isActivatedEIP(4895)
  // geth: without validation the base fee is 0 unless overridden (a call's fee cap may be under it).
  const baseFee = london ? (o.baseFeePerGas ?? (validation ? parent.calcNextBaseFee() : 0n)) : undefined
  const withdrawals: SimWithdrawal[] = (o.withdrawals ?? []).map((w) => ({
    index: w.index,
    validatorIndex: w.validatorIndex,
    address: hexToBytes(w.address),
    amount: w.amount,
  }))
  const headerData = {
    parentHash: parent.hash(),
    number: o.number,
    timestamp: o.time,
    gasLimit: o.gasLimit ?? parent.gasLimit,
    coinbase: o.feeRecipient ?? parent.coinbase.toString(),
    mixHash: o.prevRandao ? hexToBytes(o.prevRandao) : ZERO32,
    difficulty,
    ...(baseFee !== undefined ? { baseFeePerGas: baseFee } : {}),
    ...(cancun
      ? {
          excessBlobGas: parent.excessBlobGas !== undefined ? parent.calcNextExcessBlobGas(common) : 0n,
          parentBeaconBlockRoot: o.beaconRoot ? hexToBytes(o.beaconRoot) : ZERO32,
        }
      : {}),
  }
  const env = createBlock({ header: headerData }, { common, skipConsensusFormatValidation: true, freeze: false })
  if (o.blobBaseFee !== undefined) {
    const fee = o.blobBaseFee
    env.header.getBlobGasPrice = () => fee
  }
  // As geth: every block starts from the ruleset's precompiles (a move lasts one block).
  resetPrecompiles(vm, sim.rulesets.get(vm) as Map<string, unknown>)
  sim.movedTo = planned.stateOverrides ? await applySimStateOverride(vm, planned.stateOverrides) : new Set()
  await preExecution(vm, o.number, o.time, parent.hash(), headerData.parentBeaconBlockRoot ?? ZERO32)
  sim.tracer?.startBlock()
  const txs: TypedTransaction[] = []
  const receipts: StoredReceipt[] = []
  const calls: (CallResult & { raw: SimLog[]; txHash: Uint8Array; index: number })[] = []
  let gasUsed = 0n
  let blobGasUsed = 0n
  let logIndex = 0
  for (const call of planned.calls ?? []) {
    if (Date.now() > sim.deadline) {
      throw new CairnError(
        RpcErrorCode.TIMEOUT,
        `execution aborted (timeout = ${sim.ctx.limits.evmTimeoutMs / 1000}s)`,
        {
          fault: 'caller',
        },
      )
    }
    const { tx, from, gas, capped } = await toSimTx(vm, call, {
      remaining: env.header.gasLimit - gasUsed,
      budget: sim.gasBudget,
      chainId: sim.ctx.chain.chainId,
      london,
    })
    sim.tracer?.startCall()
    sim.hooks?.beforeCall?.()
    if (validation) await checkNonce(vm, from, tx, gas)
    sim.accessListed = new Set((call.accessList ?? []).map((e) => e.address.slice(2)))
    sim.accessListed.add(env.header.coinbase.toString().slice(2))
    // geth's NoBaseFee outside validation: a fee cap under the block's base fee still runs.
    const feeCap = 'maxFeePerGas' in tx ? (tx as { maxFeePerGas: bigint }).maxFeePerGas : tx.getEffectivePriorityFee(0n)
    const block = !validation && baseFee !== undefined && feeCap < baseFee ? withoutBaseFee(env) : env
    // geth never applies EIP-3607 in a simulation (a contract may send: smart-account previews).
    const restore = allowCodeSender(vm, from)
    const r = await runTx(vm, {
      tx,
      block,
      skipNonce: !validation,
      skipBlockGasLimitValidation: true,
      skipHardForkValidation: true,
      blockGasUsed: gasUsed,
    })
      .catch((err: unknown) => {
        throw refusal(err, from, tx, gas, baseFee ?? 0n)
      })
      .finally(restore)
    await wrapNonce(vm, from)
    sim.hooks?.afterCall?.(r, tx)
    gasUsed += r.totalGasSpent
    blobGasUsed += r.blobGasUsed ?? 0n
    sim.gasBudget -= r.totalGasSpent
    const e = r.execResult
    const failed = e.exceptionError !== undefined
    const raw: SimLog[] = sim.tracer
      ? sim.tracer.logs()
      : failed
        ? []
        : (e.logs ?? []).map(([address, topics, data]) => ({ address, topics, data, index: logIndex++ }))
    const index = txs.length
    txs.push(tx)
    receipts.push({
      type: tx.type,
      status: failed ? 0 : 1,
      cumulativeGasUsed: gasUsed,
      logs: (e.logs ?? []) as RawLog[],
      from: from.bytes,
    })
    const result: CallResult & { raw: SimLog[]; txHash: Uint8Array; index: number } = {
      // As geth: a failed call's output is only in its error's data.
      returnData: failed ? '0x' : bytesToHex(e.returnValue),
      logs: [],
      gasUsed: toQuantity(r.totalGasSpent),
      maxUsedGas: toQuantity(maxUsedGas(r.totalGasSpent, r.gasRefund ?? 0n)),
      status: failed ? '0x0' : '0x1',
      raw,
      txHash: tx.hash(),
      index,
    }
    if (failed) result.error = callError(e.exceptionError?.error ?? 'execution failed', e.returnValue, capped)
    calls.push(result)
  }
  const allLogs = receipts.flatMap((r) => r.logs)
  const requestsHash = await finishBlock(vm, {
    coinbase: env.header.coinbase,
    logs: allLogs,
    // As geth: a block before Shanghai has no withdrawals (an override is ignored there).
    withdrawals: shanghai ? withdrawals : [],
    gasLimit: env.header.gasLimit,
  })
  const header = {
    ...headerData,
    gasUsed,
    transactionsTrie: await genTransactionsTrieRoot(txs),
    receiptTrie: await receiptsRoot(receipts),
    logsBloom: logsBloom(allLogs),
    stateRoot: await stateRoot(vm),
    ...(shanghai ? { withdrawalsRoot: await genWithdrawalsTrieRoot(withdrawals.map(createWithdrawal)) } : {}),
    ...(cancun ? { blobGasUsed } : {}),
    ...(requestsHash ? { requestsHash } : {}),
  }
  // Not createBlock: it would build the transactions again, and refuse what a simulation runs (a
  // gas limit above EIP-7825's cap, the nonce 2^64-1); these ones also know their sender.
  const block = new Block(
    createBlockHeader(header, { common, skipConsensusFormatValidation: true }),
    txs,
    [],
    shanghai ? withdrawals.map(createWithdrawal) : undefined,
    { common },
  )
  return { block, calls }
}

/**
 * geth's nonce is a uint64: a call from an account at 2^64-1 (allowed without validation) leaves
 * it at 0, not 2^64.
 */
async function wrapNonce(vm: VM, from: Address): Promise<void> {
  const account = await vm.stateManager.getAccount(from)
  if (!account || account.nonce < NONCE_LIMIT) return
  account.nonce -= NONCE_LIMIT
  await vm.stateManager.putAccount(from, account)
}

/**
 * geth checks the nonce first (@ethereumjs checks the base fee before it): -38010 / -38011, and
 * an account at the largest nonce cannot send (-32603, as geth's ErrNonceMax).
 */
async function checkNonce(vm: VM, from: Address, tx: TypedTransaction, gas: bigint): Promise<void> {
  const state = (await vm.stateManager.getAccount(from))?.nonce ?? 0n
  const a = toChecksumAddress(from.toString())
  if (tx.nonce === state) {
    if (state + 1n < NONCE_LIMIT) return
    throw txRefused(RpcErrorCode.SIM_TX_INVALID, `nonce has max value: address ${a}, nonce: ${state}`, gas)
  }
  throw tx.nonce < state
    ? txRefused(RpcErrorCode.SIM_NONCE_TOO_LOW, `nonce too low: address ${a}, tx: ${tx.nonce} state: ${state}`, gas)
    : txRefused(RpcErrorCode.SIM_NONCE_TOO_HIGH, `nonce too high: address ${a}, tx: ${tx.nonce} state: ${state}`, gas)
}

/** A call refused before it ran (runTx threw), as geth's txValidationError. */
function refusal(err: unknown, from: Address, tx: TypedTransaction, gas: bigint, baseFee: bigint): CairnError {
  // @ethereumjs appends the VM, block and transaction it refused: " (vm hf=… -> block … -> tx …)".
  const full = err instanceof Error ? err.message : String(err)
  const msg = full.split(' (vm hf=')[0] as string
  const addr = from.toString()
  const checksummed = toChecksumAddress(addr)
  const nonce = /account has nonce of: (\d+) tx has nonce of: (\d+)/.exec(msg)
  if (nonce) {
    const [state, txNonce] = [BigInt(nonce[1] as string), BigInt(nonce[2] as string)]
    return txNonce < state
      ? txRefused(
          RpcErrorCode.SIM_NONCE_TOO_LOW,
          `nonce too low: address ${checksummed}, tx: ${txNonce} state: ${state}`,
          gas,
        )
      : txRefused(
          RpcErrorCode.SIM_NONCE_TOO_HIGH,
          `nonce too high: address ${checksummed}, tx: ${txNonce} state: ${state}`,
          gas,
        )
  }
  const funds = /upfront cost is: (\d+) and the sender's account \(\S+\) only has: (\d+)/.exec(msg)
  if (funds) {
    return txRefused(
      RpcErrorCode.SIM_INSUFFICIENT_FUNDS,
      `insufficient funds for gas * price + value: address ${checksummed} have ${funds[2]} want ${funds[1]}`,
      gas,
    )
  }
  if (/base ?fee/i.test(msg)) {
    const maxFee = 'maxFeePerGas' in tx ? (tx as { maxFeePerGas: bigint }).maxFeePerGas : tx.getEffectivePriorityFee(0n)
    return txRefused(
      RpcErrorCode.SIM_BASE_FEE_TOO_LOW,
      `max fee per gas less than block base fee: address ${checksummed}, maxFeePerGas: ${maxFee}, baseFee: ${baseFee}`,
      gas,
    )
  }
  if (/gasLimit is too low|intrinsic/i.test(msg)) {
    return txRefused(
      RpcErrorCode.SIM_INTRINSIC_GAS,
      `intrinsic gas too low: have ${tx.gasLimit}, want ${tx.getIntrinsicGas()}`,
      gas,
    )
  }
  if (/EIP-3607/.test(msg)) {
    return txRefused(RpcErrorCode.SIM_SENDER_NOT_EOA, `sender not an eoa: address ${checksummed}`, gas)
  }
  if (/initcode|init code/i.test(msg)) {
    return txRefused(RpcErrorCode.SIM_INIT_CODE_TOO_LARGE, `max initcode size exceeded: ${msg.split(' (')[0]}`, gas)
  }
  return simError(RpcErrorCode.SIM_TX_INVALID, `err: ${msg.split(' (block')[0]} (supplied gas ${gas})`)
}

/** The gas the call held at its peak: what it paid plus the refund it got back (capped at a fifth, EIP-3529). */
function maxUsedGas(spent: bigint, refund: bigint): bigint {
  const before = spent + refund
  return refund * 5n > before ? (spent * 5n) / 4n : before
}

/** geth's callError of a failed simulated call: 3 with the revert data, else -32015 (VM error). */
function callError(error: string, returnValue: Uint8Array, capped: boolean): CallResult['error'] {
  if (error === 'revert') {
    const reason = decodeRevertReason(returnValue)
    return {
      code: 3,
      message: reason ? `execution reverted: ${reason}` : 'execution reverted',
      data: bytesToHex(returnValue),
    }
  }
  const message = gethError(error)
  return {
    code: -32015,
    message: capped ? `${message} (gas limit was capped by the RPC server's global gas cap)` : message,
  }
}

/** The calls' logs with the block's hash and position, once the block's hash is known. */
function withBlockHash(
  calls: (CallResult & { raw: SimLog[]; txHash: Uint8Array; index: number })[],
  block: Block,
): CallResult[] {
  const blockHash = bytesToHex(block.hash())
  return calls.map(({ raw, txHash, index, ...call }) => ({
    ...call,
    logs: raw.map((l) => ({
      address: bytesToHex(l.address),
      topics: l.topics.map((t) => bytesToHex(setLengthLeft(t, 32))),
      data: bytesToHex(l.data),
      blockNumber: toQuantity(block.header.number),
      transactionHash: bytesToHex(txHash),
      transactionIndex: toQuantity(index),
      blockHash,
      blockTimestamp: toQuantity(block.header.timestamp),
      logIndex: toQuantity(l.index),
      removed: false,
    })),
  }))
}
