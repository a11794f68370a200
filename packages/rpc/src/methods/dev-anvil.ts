import type { StateEdit } from '@cairn/chain'
import { CairnError, hexToBytes } from '@cairn/utils'
import { Address } from '@ethereumjs/util'
import { z } from 'zod'
import type { RpcContext } from '../context.ts'
import { RpcErrorCode } from '../errors.ts'
import { formatBlock } from '../format.ts'
import { setAutoImpersonate } from '../impersonation.ts'
import { type MethodDef, method } from '../method.ts'
import { address, hash32, numberOrHex, numberOrHex256 } from '../schemas.ts'
import { checkBlocksPerCall, dev, devMethods } from './dev.ts'
import { renewInstanceId } from './dev-info.ts'
import { devReorgMethods } from './dev-reorg.ts'
import { devStateMethods } from './dev-state.ts'

/**
 * The rest of Anvil's dev methods that test suites and tools use (dev mode only): mining modes,
 * time, rolling the chain back or resetting it, the pool, balances, and the `anvil_` names of
 * `evm_` methods. Answers as Anvil 1.7 gives them (differential test: packages/node/test/e2e/anvil-dev-methods.e2e.test.ts).
 */

/** Seconds, as a JSON number or hex (Anvil takes both), that fit a JavaScript timer. */
const seconds = numberOrHex.refine((s) => s <= 2_000_000n, 'expected at most 2,000,000 seconds')

const addBalance =
  (addr: string, wei: bigint): StateEdit =>
  async (sm) => {
    const a = new Address(hexToBytes(addr))
    const balance = (await sm.getAccount(a))?.balance ?? 0n
    await sm.modifyAccountFields(a, { balance: balance + wei })
  }

/**
 * hardhat_reset / anvil_reset: back to the genesis block; on a fork (`--fork-url`), back to the
 * fork block with the state the node started with. `forking: { jsonRpcUrl, blockNumber }` on a
 * fork: the URL is taken (the same chain served elsewhere), the block must be the fork's (another
 * block is another first block: a restart with `--fork-block-number`).
 */
const resetParams = z.tuple([
  z
    .object({
      forking: z
        .object({ jsonRpcUrl: z.string().optional(), blockNumber: numberOrHex.optional() })
        .passthrough()
        .optional(),
    })
    .passthrough()
    .nullish(),
])

async function reset(ctx: RpcContext, opts: z.output<typeof resetParams>[0]): Promise<null> {
  const forking = opts?.forking
  if (forking !== undefined) {
    const fork = ctx.chain.fork
    if (fork === undefined) {
      throw new CairnError(RpcErrorCode.INVALID_PARAMS, 'this node is not a fork: reset cannot start forking', {
        fault: 'caller',
        hint: 'start Cairn with --fork-url URL [--fork-block-number N] to fork',
      })
    }
    if (forking.blockNumber !== undefined && forking.blockNumber !== fork.blockNumber) {
      throw new CairnError(
        RpcErrorCode.INVALID_PARAMS,
        `this fork's first block is ${fork.blockNumber}: resetting to a fork at block ${forking.blockNumber} needs a restart`,
        { fault: 'caller', hint: `restart with --fork-block-number ${forking.blockNumber}` },
      )
    }
    if (forking.jsonRpcUrl !== undefined && forking.jsonRpcUrl !== fork.url) setRpcUrl(ctx, forking.jsonRpcUrl)
  }
  await dev(ctx).reset()
  renewInstanceId(ctx)
  return null
}

/**
 * anvil_setRpcUrl: a fork reads the remote's state from another URL (the same chain served
 * elsewhere). On a node that is not a fork, null and nothing changes, as Anvil 1.7.1 (it keeps the
 * URL in its config, which a reset of a node that never forked does not read).
 */
function setRpcUrl(ctx: RpcContext, url: string): null {
  ctx.chain.fork?.setUrl(url)
  return null
}

/** Mines like evm_mine and answers the blocks made, with their transactions (evm_mine_detailed). */
async function mineDetailed(ctx: RpcContext, opts: bigint | { timestamp?: bigint; blocks?: bigint } | undefined) {
  const d = dev(ctx)
  const timestamp = typeof opts === 'bigint' ? opts : opts?.timestamp
  const blocks = typeof opts === 'object' && opts.blocks !== undefined ? opts.blocks : 1n
  checkBlocksPerCall(blocks)
  if (timestamp !== undefined) d.setNextBlockTimestamp(timestamp)
  const out: Record<string, unknown>[] = []
  for (let i = 0n; i < blocks; i++) {
    await d.mine()
    out.push(formatBlock(ctx.chain.head, true, { anvil: ctx.limits.receiptTimestamps }))
  }
  return out
}

const mineOpts = z.tuple([
  z.union([numberOrHex, z.object({ timestamp: numberOrHex.optional(), blocks: numberOrHex.optional() })]).optional(),
])

export const devAnvilMethods: MethodDef[] = [
  // Mining modes.
  ...['evm_setAutomine', 'anvil_setAutomine'].map((name) =>
    method({
      name,
      devOnly: true,
      params: z.tuple([z.boolean()]),
      handler: ([on], ctx) => {
        dev(ctx).setAutomine(on)
        return null
      },
    }),
  ),
  ...['anvil_getAutomine', 'hardhat_getAutomine'].map((name) =>
    method({ name, devOnly: true, params: z.tuple([]), handler: (_p, ctx) => dev(ctx).getAutomine() }),
  ),
  ...['evm_setIntervalMining', 'anvil_setIntervalMining'].map((name) =>
    method({
      name,
      devOnly: true,
      params: z.tuple([seconds]),
      handler: ([s], ctx) => {
        dev(ctx).setIntervalMining(Number(s))
        return null
      },
    }),
  ),
  method({
    name: 'anvil_getIntervalMining',
    devOnly: true,
    params: z.tuple([]),
    handler: (_p, ctx) => dev(ctx).getIntervalMining() || null,
  }),
  method({
    name: 'evm_mine_detailed',
    devOnly: true,
    params: mineOpts,
    handler: ([opts], ctx) => mineDetailed(ctx, opts),
  }),

  // The next blocks' header fields.
  method({
    name: 'anvil_setCoinbase',
    devOnly: true,
    params: z.tuple([address]),
    handler: ([a], ctx) => {
      dev(ctx).setCoinbase(hexToBytes(a))
      return null
    },
  }),
  ...['anvil_setNextBlockBaseFeePerGas', 'hardhat_setNextBlockBaseFeePerGas'].map((name) =>
    method({
      name,
      devOnly: true,
      params: z.tuple([numberOrHex256]),
      handler: ([fee], ctx) => {
        dev(ctx).setNextBlockBaseFee(fee)
        return null // both names, as Anvil (Hardhat's own node answers true)
      },
    }),
  ),
  method({
    name: 'evm_setBlockGasLimit',
    devOnly: true,
    params: z.tuple([numberOrHex.refine((g) => g >= 5000n, 'expected a gas limit of at least 5,000')]),
    handler: ([g], ctx) => {
      dev(ctx).setBlockGasLimit(g)
      return true
    },
  }),

  // Time.
  method({
    name: 'evm_setTime',
    devOnly: true,
    params: z.tuple([numberOrHex]),
    handler: ([t], ctx) => Number(dev(ctx).setTime(t)),
  }),
  method({
    name: 'anvil_setBlockTimestampInterval',
    devOnly: true,
    params: z.tuple([numberOrHex]),
    handler: ([s], ctx) => {
      dev(ctx).setBlockTimestampInterval(s)
      return null
    },
  }),
  method({
    name: 'anvil_removeBlockTimestampInterval',
    devOnly: true,
    params: z.tuple([]),
    handler: (_p, ctx) => dev(ctx).setBlockTimestampInterval(undefined),
  }),

  // The chain.
  method({
    name: 'anvil_rollback',
    devOnly: true,
    params: z.tuple([numberOrHex.optional()]),
    async handler([depth], ctx) {
      await dev(ctx).rollback(depth ?? 1n)
      return null
    },
  }),
  ...['anvil_reset', 'hardhat_reset'].map((name) =>
    method({
      name,
      devOnly: true,
      params: resetParams,
      async handler([opts], ctx) {
        await reset(ctx, opts)
        return null // both names, as Anvil (Hardhat's own node answers true)
      },
    }),
  ),
  method({
    name: 'anvil_setRpcUrl',
    devOnly: true,
    params: z.tuple([z.string()]),
    handler: ([url], ctx) => setRpcUrl(ctx, url),
  }),

  // The pool.
  ...['anvil_dropTransaction', 'hardhat_dropTransaction'].map((name) =>
    method({
      name,
      devOnly: true,
      params: z.tuple([hash32]),
      handler: ([hash], ctx) => {
        const tx = ctx.pool.get(hexToBytes(hash))
        if (tx) ctx.pool.discard([tx])
        // Both names, as Anvil: the hash dropped, or null (Hardhat's own node answers a boolean).
        return tx ? hash : null
      },
    }),
  ),
  method({
    name: 'anvil_dropAllTransactions',
    devOnly: true,
    params: z.tuple([]),
    async handler(_p, ctx) {
      const { pending, queued } = await ctx.pool.content()
      ctx.pool.discard([...pending.values(), ...queued.values()].flat())
      return null
    },
  }),

  // Accounts.
  method({
    name: 'anvil_addBalance',
    devOnly: true,
    params: z.tuple([address, numberOrHex256]),
    async handler([a, wei], ctx) {
      await dev(ctx).editState(addBalance(a, wei))
      return null
    },
  }),
  method({
    name: 'anvil_autoImpersonateAccount',
    devOnly: true,
    params: z.tuple([z.boolean()]),
    handler: ([on], ctx) => {
      setAutoImpersonate(ctx, on)
      return null
    },
  }),
  method({
    name: 'anvil_removePoolTransactions',
    devOnly: true,
    params: z.tuple([address]),
    handler: ([a], ctx) => {
      const { pending, queued } = ctx.pool.contentFrom(new Address(hexToBytes(a)))
      ctx.pool.discard([...pending, ...queued])
      return null
    },
  }),
  method({
    name: 'anvil_getGenesisTime',
    devOnly: true,
    params: z.tuple([]),
    async handler(_p, ctx) {
      const genesis = await ctx.chain.getCanonicalHash(0n)
      const block = genesis ? await ctx.chain.getBlock(genesis) : undefined
      return Number(block?.header.timestamp ?? 0n)
    },
  }),
  // Tools call these to quiet or tune Anvil; they change nothing here.
  ...['anvil_setLoggingEnabled', 'hardhat_setLoggingEnabled'].map((name) =>
    method({ name, devOnly: true, params: z.tuple([z.boolean()]), handler: () => null }),
  ),
]

/** Anvil's other names for methods served under one name (its `alias`es), answering the same. */
const ALIASES: [alias: string, of: string][] = [
  ['anvil_increaseTime', 'evm_increaseTime'],
  ['anvil_setNextBlockTimestamp', 'evm_setNextBlockTimestamp'],
  ['anvil_snapshot', 'evm_snapshot'],
  ['anvil_revert', 'evm_revert'],
  // Anvil's (Ganache's) name for it
  ['evm_setAccountNonce', 'anvil_setNonce'],
  ['anvil_setBlockGasLimit', 'evm_setBlockGasLimit'],
  ['anvil_setTime', 'evm_setTime'],
  ['anvil_mine_detailed', 'evm_mine_detailed'],
  ['hardhat_addBalance', 'anvil_addBalance'],
  ['hardhat_autoImpersonateAccount', 'anvil_autoImpersonateAccount'],
  ['hardhat_setCoinbase', 'anvil_setCoinbase'],
  ['hardhat_dropAllTransactions', 'anvil_dropAllTransactions'],
]

const TARGETS = [...devMethods, ...devStateMethods, ...devAnvilMethods]
for (const [alias, of] of ALIASES) {
  const def = TARGETS.find((m) => m.name === of)
  if (!def) {
    throw new CairnError(RpcErrorCode.METHOD_NOT_FOUND, `dev method alias ${alias}: no method ${of}`, {
      fault: 'internal',
    })
  }
  devAnvilMethods.push({ ...def, name: alias })
}
devAnvilMethods.push(...devReorgMethods)
