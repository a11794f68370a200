import { randomBytes } from 'node:crypto'
import { bytesToHex, CairnError } from '@cairn/utils'
import { z } from 'zod'
import type { RpcContext } from './context.ts'
import { invalidParams, RpcErrorCode } from './errors.ts'
import { formatHeader, formatLog, formatTx } from './format.ts'
import { logMatcher } from './log-filter.ts'
import { type MethodDef, method, type SubscriptionSink } from './method.ts'
import { logFilter } from './schemas.ts'

export type { SubscriptionSink }

function notify(sink: SubscriptionSink, id: string, result: unknown): void {
  sink.send(JSON.stringify({ jsonrpc: '2.0', method: 'eth_subscription', params: { subscription: id, result } }))
}

const kind = z.enum(['newHeads', 'logs', 'newPendingTransactions'])

export const subscriptionMethods: MethodDef[] = [
  method({
    name: 'eth_subscribe',
    params: z.tuple([
      kind,
      z.union([logFilter.omit({ fromBlock: true, toBlock: true, blockHash: true }), z.boolean()]).optional(),
    ]),
    handler([what, arg], ctx: RpcContext, call) {
      const sink = call.connection
      if (!sink) {
        throw new CairnError(RpcErrorCode.METHOD_NOT_FOUND, 'notifications not supported: subscribe over WebSocket', {
          fault: 'caller',
        })
      }
      // A subscribe can finish after its socket closed (the gate awaits a Redis rate-limit store):
      // a listener registered then would never be removed, and every block would pay for it.
      if (sink.closed) {
        throw new CairnError(RpcErrorCode.INVALID_REQUEST, 'the connection closed before the subscription was made', {
          fault: 'caller',
        })
      }
      if (sink.subscriptions.size >= ctx.limits.subscriptionsPerConnection) {
        throw new CairnError(
          RpcErrorCode.LIMIT,
          `too many subscriptions on this connection (max ${ctx.limits.subscriptionsPerConnection})`,
          {
            fault: 'caller',
          },
        )
      }
      const id = `0x${randomBytes(16).toString('hex')}`
      let off: () => void
      if (what === 'newHeads') {
        if (arg !== undefined) throw invalidParams('invalid argument 1: newHeads takes no options')
        off = ctx.chain.events.on('newHead', ({ block }) => notify(sink, id, formatHeader(block.header)))
      } else if (what === 'logs') {
        const matches = logMatcher(typeof arg === 'object' ? arg : {})
        off = ctx.chain.events.on('logs', (logs) => {
          for (const l of logs) if (matches(l)) notify(sink, id, formatLog(l))
        })
      } else {
        const full = arg === true
        off = ctx.pool.events.on('added', (tx) => notify(sink, id, full ? formatTx(tx) : bytesToHex(tx.hash())))
      }
      sink.subscriptions.set(id, off)
      return id
    },
  }),
  method({
    name: 'eth_unsubscribe',
    params: z.tuple([z.string()]),
    handler([id], _ctx, call) {
      const off = call.connection?.subscriptions.get(id)
      if (!off) return false
      off()
      call.connection?.subscriptions.delete(id)
      return true
    },
  }),
]
