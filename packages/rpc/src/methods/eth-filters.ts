import type { LogEntry } from '@cairn/chain'
import { CairnError } from '@cairn/utils'
import { z } from 'zod'
import { RpcErrorCode } from '../errors.ts'
import { filtersOf } from '../filters.ts'
import { formatLog } from '../format.ts'
import { logMatcher } from '../log-filter.ts'
import { type MethodDef, method } from '../method.ts'
import { type LogFilter, logFilter } from '../schemas.ts'
import { getLogs } from './eth-logs.ts'

const filterId = z.string().regex(/^0x[0-9a-fA-F]{1,64}$/, 'expected a filter id (hex)')

/** Polled filters: install, poll changes, read all logs, uninstall; unpolled ones expire. */
export const ethFilterMethods: MethodDef[] = [
  method({
    name: 'eth_newFilter',
    params: z.tuple([logFilter]),
    async handler([criteria], ctx) {
      const filters = filtersOf(ctx)
      const head = ctx.chain.head.header.number
      const id = filters.install({ kind: 'logs', criteria, matches: logMatcher(criteria) })
      // A dev chain answers the first poll with the logs already in the filter's range, as Anvil
      // does when fromBlock is given (geth: only what arrives after the filter). Read up to the head
      // at install: later blocks reach the filter through its events.
      if (ctx.dev && criteria.fromBlock !== undefined && criteria.blockHash === undefined) {
        try {
          filters.prepend(id, await getLogs(ctx, { ...criteria, toBlock: capAt(criteria.toBlock, head) }))
        } catch (err) {
          filters.uninstall(id)
          throw err
        }
      }
      return id
    },
  }),
  method({
    name: 'eth_newBlockFilter',
    params: z.tuple([]),
    handler: (_p, ctx) => filtersOf(ctx).install({ kind: 'blocks' }),
  }),
  method({
    name: 'eth_newPendingTransactionFilter',
    // geth accepts a `fullTx` flag; hashes are what every client polls for.
    params: z.tuple([z.boolean().optional()]),
    handler: (_p, ctx) => filtersOf(ctx).install({ kind: 'pending' }),
  }),
  method({
    name: 'eth_getFilterChanges',
    params: z.tuple([filterId]),
    handler([id], ctx) {
      const changes = filtersOf(ctx).takeChanges(id)
      return changes.map((c) => (typeof c === 'string' ? c : formatLog(c as LogEntry)))
    },
  }),
  method({
    name: 'eth_getFilterLogs',
    weight: 10,
    params: z.tuple([filterId]),
    async handler([id], ctx) {
      const f = filtersOf(ctx).poll(id)
      if (f.kind !== 'logs') {
        throw new CairnError(RpcErrorCode.NOT_FOUND, 'filter not found', {
          fault: 'caller',
          hint: 'eth_getFilterLogs reads log filters (eth_newFilter); poll block and pending filters with eth_getFilterChanges',
        })
      }
      return (await getLogs(ctx, f.criteria)).map(formatLog)
    },
  }),
  method({
    name: 'eth_uninstallFilter',
    params: z.tuple([filterId]),
    handler: ([id], ctx) => filtersOf(ctx).uninstall(id),
  }),
]

/** A filter's toBlock no later than `head` (a number past it, latest, pending or none: the head). */
function capAt(toBlock: LogFilter['toBlock'], head: bigint): LogFilter['toBlock'] {
  if (typeof toBlock === 'bigint') return toBlock < head ? toBlock : head
  if (toBlock === 'safe' || toBlock === 'finalized' || toBlock === 'earliest') return toBlock
  return head
}
