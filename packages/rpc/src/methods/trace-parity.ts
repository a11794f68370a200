import { bytesToHex } from '@cairn/utils'
import type { Block } from '@ethereumjs/block'
import { z } from 'zod'
import type { RpcContext } from '../context.ts'
import { type MethodDef, method } from '../method.ts'
import { findBlock } from '../resolve.ts'
import { blockRef, hash32 } from '../schemas.ts'
import { type CallFrame, callTreeOf, walkFrames } from '../trace/call-frames.ts'
import { locateTx } from './eth-blocks.ts'

/**
 * Parity's (OpenEthereum's, Erigon's, reth's, Anvil's) flat call traces: `trace_transaction` and
 * `trace_block`, made from geth's call tracer (the same replay as debug_traceTransaction). Each
 * frame becomes one entry with its `traceAddress` (the path of child indexes) and `subtraces`.
 * Differences: the top frame's `gas` is the transaction's gas limit (Parity subtracts the
 * intrinsic gas); errors are the EVM's messages ("execution reverted" as Parity's "Reverted").
 */

const CALL_TYPES: Record<string, string> = {
  CALL: 'call',
  STATICCALL: 'staticcall',
  DELEGATECALL: 'delegatecall',
  CALLCODE: 'callcode',
}

function parityError(error: string): string {
  return error === 'execution reverted' ? 'Reverted' : error
}

export function flatTraces(
  root: CallFrame,
  where: { blockHash: string; blockNumber: number; transactionHash: string; transactionPosition: number },
): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = []
  for (const { frame, path } of walkFrames(root)) {
    const common = { ...where, subtraces: frame.calls?.length ?? 0, traceAddress: path }
    const value = frame.value ?? '0x0'
    let entry: Record<string, unknown>
    if (frame.type === 'CREATE' || frame.type === 'CREATE2') {
      entry = {
        action: {
          creationMethod: frame.type.toLowerCase(),
          from: frame.from,
          gas: frame.gas,
          init: frame.input,
          value,
        },
        ...common,
        result: frame.error ? null : { address: frame.to, code: frame.output ?? '0x', gasUsed: frame.gasUsed },
        type: 'create',
      }
    } else if (frame.type === 'SELFDESTRUCT') {
      entry = {
        action: { address: frame.from, balance: value, refundAddress: frame.to },
        ...common,
        result: null,
        type: 'suicide',
      }
    } else {
      entry = {
        action: {
          callType: CALL_TYPES[frame.type] ?? frame.type.toLowerCase(),
          from: frame.from,
          gas: frame.gas,
          input: frame.input,
          to: frame.to,
          value,
        },
        ...common,
        result: frame.error ? null : { gasUsed: frame.gasUsed, output: frame.output ?? '0x' },
        type: 'call',
      }
    }
    if (frame.error) {
      entry.error = parityError(frame.error)
      delete entry.result
    }
    out.push(entry)
  }
  return out
}

async function blockTraces(ctx: RpcContext, block: Block): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = []
  for (const [i, tx] of block.transactions.entries()) {
    const hash = bytesToHex(tx.hash())
    const root = await callTreeOf(ctx, hash)
    if (!root) continue
    out.push(
      ...flatTraces(root, {
        blockHash: bytesToHex(block.hash()),
        blockNumber: Number(block.header.number),
        transactionHash: hash,
        transactionPosition: i,
      }),
    )
  }
  return out
}

export const traceParityMethods: MethodDef[] = [
  method({
    name: 'trace_transaction',
    params: z.tuple([hash32]),
    async handler([hash], ctx) {
      const found = await locateTx(ctx, hash)
      if (!found) return null
      const root = await callTreeOf(ctx, hash)
      if (!root) return null
      return flatTraces(root, {
        blockHash: bytesToHex(found.block.hash()),
        blockNumber: Number(found.block.header.number),
        transactionHash: hash,
        transactionPosition: found.index,
      })
    },
  }),
  method({
    name: 'trace_block',
    params: z.tuple([blockRef]),
    async handler([ref], ctx) {
      const block = await findBlock(ctx, ref)
      if (!block) return null
      return blockTraces(ctx, block)
    },
  }),
]
