import { randomBytes } from 'node:crypto'
import { bytesToHex, toQuantity } from '@cairn/utils'
import { z } from 'zod'
import type { RpcContext } from '../context.ts'
import { suggestTip } from '../gas-oracle.ts'
import { type MethodDef, method } from '../method.ts'

/**
 * What a dev node says about itself, in Anvil's and Hardhat's shapes: Hardhat 3's viem test
 * client asks `hardhat_metadata` or `anvil_nodeInfo` before anything else, and its network helpers
 * read `web3_clientVersion` (see `--rpc.client-version`). Dev mode only, as on those nodes.
 */

/** A random id per node run, renewed by anvil_reset (Hardhat's `instanceId`: a test sees a fresh chain). */
const instanceIds = new WeakMap<RpcContext, string>()

export function instanceId(ctx: RpcContext): string {
  let id = instanceIds.get(ctx)
  if (!id) {
    id = bytesToHex(randomBytes(32))
    instanceIds.set(ctx, id)
  }
  return id
}

/** A new chain instance (anvil_reset): Hardhat's fixtures taken before it no longer apply. */
export function renewInstanceId(ctx: RpcContext): void {
  instanceIds.delete(ctx)
}

/** The version's semver part: `anvil/v1.7.1` → `1.7.1`, `Cairn/v0.1.0/linux-x64/…` → `0.1.0`. */
function semverOf(clientVersion: string): string {
  return /v?(\d+\.\d+\.\d+[^/\s]*)/.exec(clientVersion)?.[1] ?? '0.0.0'
}

/** anvil_metadata / hardhat_metadata: the same object on both, as Anvil answers. */
function metadata(ctx: RpcContext) {
  const head = ctx.chain.head
  return {
    clientVersion: ctx.clientVersion,
    clientSemver: semverOf(ctx.clientVersion),
    clientCommitSha: ctx.buildCommit ?? 'unknown',
    chainId: Number(ctx.chain.chainId),
    instanceId: instanceId(ctx),
    latestBlockNumber: Number(head.header.number),
    latestBlockHash: bytesToHex(head.hash()),
    forkedNetwork: ctx.forked
      ? {
          chainId: Number(ctx.forked.chainId),
          forkBlockNumber: Number(ctx.forked.blockNumber),
          forkBlockHash: ctx.forked.blockHash,
        }
      : null,
    snapshots: {},
  }
}

/** `osaka` → `Osaka`, `bpo1` → `Bpo1`: Anvil's spelling of the fork. */
function forkName(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1)
}

export const devInfoMethods: MethodDef[] = [
  method({ name: 'anvil_metadata', devOnly: true, params: z.tuple([]), handler: (_p, ctx) => metadata(ctx) }),
  method({ name: 'hardhat_metadata', devOnly: true, params: z.tuple([]), handler: (_p, ctx) => metadata(ctx) }),
  method({
    name: 'anvil_nodeInfo',
    devOnly: true,
    params: z.tuple([]),
    async handler(_p, ctx) {
      const head = ctx.chain.head
      const baseFee = head.header.calcNextBaseFee()
      return {
        currentBlockNumber: toQuantity(head.header.number),
        currentBlockTimestamp: Number(head.header.timestamp),
        currentBlockHash: bytesToHex(head.hash()),
        hardFork: forkName(head.header.common.hardfork()),
        transactionOrder: 'fees',
        environment: {
          baseFee: toQuantity(baseFee),
          chainId: Number(ctx.chain.chainId),
          gasLimit: toQuantity(head.header.gasLimit),
          gasPrice: toQuantity(baseFee + (await suggestTip(ctx))),
        },
        forkConfig: ctx.forked
          ? {
              forkUrl: ctx.forked.url,
              forkBlockNumber: Number(ctx.forked.blockNumber),
              forkRetryBackoff: ctx.forked.retryBackoffMs,
            }
          : { forkUrl: null, forkBlockNumber: null, forkRetryBackoff: null },
      }
    },
  }),
]
