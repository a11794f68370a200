import type { z } from 'zod'
import type { Role } from './auth/roles.ts'
import type { RpcContext } from './context.ts'

/**
 * One JSON-RPC method: its name, a schema for its positional params (a tuple; trailing optional
 * params may be omitted), a handler that receives the validated, typed params and answers `R`,
 * and what the server needs to know about it (role, weight, read threads, request context). Those
 * attributes are read once into method-table.ts; an absent one takes its namespace's default
 * there. `MethodDef` alone (the tables, the dispatcher) is any method; one declared with
 * {@link method} keeps its params' and answer's types, for a caller that invokes it directly.
 */
export interface MethodDef<S extends z.ZodType = z.ZodType, R = unknown> {
  name: string
  params: S
  /**
   * The params checked without the schema when they are in the shape nearly every caller sends
   * (fast/quick-params.ts): exactly what `params` would give, or undefined to let `params` decide.
   */
  quickParams?(params: unknown[]): z.output<S> | undefined
  handler(params: z.output<S>, ctx: RpcContext, call: CallInfo): Promise<R> | R
  /** Only served when the node runs in dev mode. */
  devOnly?: boolean
  /** The `testing` namespace: only served when the node enables it (`rpc.testing`). */
  testingOnly?: boolean
  /**
   * The least role that may call it. Absent: its namespace's default (`eth`, `net`, `web3`
   * public; `txpool` operator; anything else admin), except that a name looking like a sending or
   * signing one (`eth_send*`, `eth_sign*`, `personal_sign*`) needs `user` (method-table.ts).
   */
  role?: Role
  /**
   * Cost of one call against a rate limit and a batch's budget, by the work it can cause. Absent:
   * 20 in `debug`, `trace`, `ots` and `testing` (replays, raw blocks, block building), else 1.
   * Declared: 20 multi-block simulation, 10 whole blocks of logs or receipts, 5 EVM execution.
   */
  weight?: number
  /**
   * Served by a read thread (`--rpc.threads`; read-threads.ts): `'answer'` a pure read of the
   * stored chain at a block the request names (answered by a thread listening itself); `'forward'`
   * also worth handing over from the main thread (its work outweighs a structured clone each
   * way). Absent: main thread only.
   */
  readThread?: 'answer' | 'forward'
  /**
   * Runs without the request context though above the `public` role (public methods always do;
   * server.ts `dispatchInContext`): signed transactions, whose admission logs about the node.
   */
  contextFree?: true
  /** The shape of its answer: checked by tests (method-table.test.ts), never on the hot path. */
  result?: z.ZodType
}

/** A WebSocket connection as subscriptions see it (subscriptions.ts). */
export interface SubscriptionSink {
  send(message: string): void
  /** Active subscriptions: id → unsubscribe. */
  readonly subscriptions: Map<string, () => void>
  /** True once the connection has closed: nothing may subscribe on it any more. */
  readonly closed?: boolean
}

/** Per-call information the transport gives handlers. */
export interface CallInfo {
  /** The WebSocket connection, for subscriptions. */
  connection?: SubscriptionSink
  /** The request's id, for the dispatcher's own log lines. */
  reqId?: string
  /** The HTTP request's W3C trace context (`traceparent`): the call's span joins the caller's trace. */
  trace?: import('@cairn/service-kit').TraceCarrier
  /** In a batch: the gas its entries may still execute, together (eth_call, estimates). */
  gasBudget?: import('./exec.ts').GasBudget
}

/**
 * Declares a method: the handler's params are typed by the schema, and the declaration keeps both
 * its params' and its answer's types (it still goes into a `MethodDef[]` table as any method).
 */
export function method<S extends z.ZodType, R>(def: MethodDef<S, R>): MethodDef<S, R> {
  return def
}

/**
 * Calls a declared method's handler as the dispatcher would (its raw params validated by its
 * schema), typed as the method declares: what one method asks of another (ots_ asking eth_, trace_
 * asking debug_) without looking it up by name and casting what it answers.
 */
export async function invokeMethod<S extends z.ZodType, R>(
  def: MethodDef<S, R>,
  params: z.input<S>,
  ctx: RpcContext,
): Promise<Awaited<R>> {
  return await def.handler(def.params.parse(params), ctx, {})
}
