import type { z } from 'zod'
import type { RpcContext } from './context.ts'

/**
 * One JSON-RPC method: its name, a schema for its positional params (a tuple; trailing optional
 * params may be omitted), and a handler that receives the validated, typed params.
 */
export interface MethodDef<S extends z.ZodType = z.ZodType> {
  name: string
  params: S
  handler(params: z.output<S>, ctx: RpcContext, call: CallInfo): Promise<unknown> | unknown
  /** Only served when the node runs in dev mode. */
  devOnly?: boolean
  /** The `testing` namespace: only served when the node enables it (`rpc.testing`). */
  testingOnly?: boolean
}

/** Per-call information the transport gives handlers. */
export interface CallInfo {
  /** The WebSocket connection, for subscriptions. */
  connection?: import('./subscriptions.ts').SubscriptionSink
  /** The request's id, for the dispatcher's own log lines. */
  reqId?: string
  /** In a batch: the gas its entries may still execute, together (eth_call, estimates). */
  gasBudget?: import('./exec.ts').GasBudget
}

/** Declares a method (keeps the param and handler types tied together). */
export function method<S extends z.ZodType>(def: MethodDef<S>): MethodDef {
  return def as unknown as MethodDef
}
