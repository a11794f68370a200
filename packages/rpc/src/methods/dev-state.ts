import type { StateEdit } from '@cairn/chain'
import { hexToBytes, toQuantity } from '@cairn/utils'
import { Address, setLengthLeft } from '@ethereumjs/util'
import { z } from 'zod'
import type { RpcContext } from '../context.ts'
import { decodeDump, dumpState, encodeDump, loadEdit } from '../dump-state.ts'
import { type MethodDef, method } from '../method.ts'
import { address, data, hash32, numberOrHex, numberOrHex256 } from '../schemas.ts'
import { checkBlocksPerCall, dev } from './dev.ts'

/**
 * Foundry's and Hardhat's test-setup methods (dev mode only): snapshots, state edits and mining
 * several blocks. A state edit changes the state after the head without sealing a block, as
 * Anvil (see DevEngine.editState, DevChain.editHead): `latest`, `pending`, the pool, calls and
 * estimates see it at once, and the next block sealed starts from it.
 */

const slot = z
  .string()
  .regex(/^0x[0-9a-fA-F]{1,64}$/, 'expected a storage slot of at most 32 bytes')
  .transform((s) => setLengthLeft(hexToBytes(`0x${s.slice(2).padStart(64, '0')}`), 32))
const count = numberOrHex.optional()

const setBalance =
  (addr: string, wei: bigint): StateEdit =>
  (sm) =>
    sm.modifyAccountFields(new Address(hexToBytes(addr)), { balance: wei })
const setNonce =
  (addr: string, nonce: bigint): StateEdit =>
  (sm) =>
    sm.modifyAccountFields(new Address(hexToBytes(addr)), { nonce })
const setCode =
  (addr: string, code: string): StateEdit =>
  async (sm) => {
    const a = new Address(hexToBytes(addr))
    await sm.modifyAccountFields(a, {})
    await sm.putCode(a, hexToBytes(code))
  }
const setStorage =
  (addr: string, key: Uint8Array, value: string): StateEdit =>
  async (sm) => {
    const a = new Address(hexToBytes(addr))
    await sm.modifyAccountFields(a, {})
    await sm.putStorage(a, key, hexToBytes(value))
  }

/** Mines `blocks` blocks, `interval` seconds apart when given (anvil_mine / hardhat_mine). */
export async function mineMany(ctx: RpcContext, blocks = 1n, interval?: bigint): Promise<void> {
  const d = dev(ctx)
  checkBlocksPerCall(blocks)
  for (let i = 0n; i < blocks; i++) {
    if (interval !== undefined && i > 0n) d.setNextBlockTimestamp(ctx.chain.head.header.timestamp + interval)
    await d.mine()
  }
}

/**
 * Both forms answer as Anvil 1.7.1 serves them: null (true for setStorageAt). Hardhat's own node
 * answers true; Hardhat's helpers read neither (they run against Anvil too).
 */
function both(
  name: string,
  params: z.ZodType,
  run: (p: never, ctx: RpcContext) => Promise<void>,
  anvilResult: unknown = null,
): MethodDef[] {
  return ['anvil', 'hardhat'].map((prefix) =>
    method({
      name: `${prefix}_${name}`,
      devOnly: true,
      params,
      async handler(p, ctx) {
        await run(p as never, ctx)
        return anvilResult
      },
    }),
  )
}

export const devStateMethods: MethodDef[] = [
  method({
    name: 'evm_snapshot',
    devOnly: true,
    params: z.tuple([]),
    handler: (_p, ctx) => toQuantity(dev(ctx).snapshot()),
  }),
  method({
    name: 'evm_revert',
    devOnly: true,
    params: z.tuple([numberOrHex256]),
    handler: ([id], ctx) => dev(ctx).revert(id),
  }),
  ...both('setBalance', z.tuple([address, numberOrHex256]), async ([a, wei]: [string, bigint], ctx) => {
    await dev(ctx).editState(setBalance(a, wei))
  }),
  ...both('setNonce', z.tuple([address, numberOrHex]), async ([a, n]: [string, bigint], ctx) => {
    await dev(ctx).editState(setNonce(a, n))
  }),
  ...both('setCode', z.tuple([address, data]), async ([a, code]: [string, string], ctx) => {
    await dev(ctx).editState(setCode(a, code))
  }),
  ...both(
    'setStorageAt',
    z.tuple([address, slot, hash32]),
    async ([a, key, value]: [string, Uint8Array, string], ctx) => {
      await dev(ctx).editState(setStorage(a, key, value))
    },
    true,
  ),
  // Anvil's state file: hex of the gzipped JSON of every account (see dump-state.ts).
  ...['anvil_dumpState', 'hardhat_dumpState'].map((name) =>
    method({
      name,
      devOnly: true,
      params: z.union([z.tuple([]), z.tuple([z.boolean().nullish()])]),
      handler: async (_p, ctx) => encodeDump(await dumpState(ctx)),
    }),
  ),
  ...['anvil_loadState', 'hardhat_loadState'].map((name) =>
    method({
      name,
      devOnly: true,
      params: z.tuple([data]),
      async handler([bytes], ctx) {
        await dev(ctx).editState(loadEdit(decodeDump(hexToBytes(bytes as `0x${string}`))))
        return true
      },
    }),
  ),
  ...both('mine', z.tuple([count, count]), ([n, interval]: [bigint?, bigint?], ctx) => mineMany(ctx, n, interval)),
]
