import { CONNECTION_REFUSALS } from '@cairn/service-kit'
import { Counter, Gauge, type Registry } from 'prom-client'
import { BoundCounter, BoundHistogram } from './bound-metrics.ts'

export interface RpcMetrics {
  /** Counted and timed per request: children bound once (bound-metrics.ts). */
  requests: BoundCounter<'method' | 'code'>
  duration: BoundHistogram<'method'>
  connections: Gauge<'transport'>
  /**
   * Requests refused before dispatch: `unauthorized` (401), `forbidden` (403), `rate_limited` (429),
   * `limit_store_down` (503), `overloaded` (503), `invalid_host` and `origin_forbidden` (403).
   */
  refused: Counter<'reason'>
  /**
   * Connections closed as they arrived, before any byte: `per_ip` (the address's cap), `total` (the
   * port's limit), `reserve` (the last quarter of it, kept for addresses holding few).
   */
  connectionsRefused: Counter<'reason'>
  /** Connections closed for sending nothing within the first-byte timeout. */
  connectionsSilent: Counter
  /** eth_call answers by how: `hit` (remembered), `joined` (an identical call in flight), `miss` (run), `bypass` (not cacheable). */
  callCache: Counter<'result'>
  /**
   * HTTP requests the port's fast lane took (fast/fast-lane.ts): `answered` there, or `handed_over`
   * (the first request of a connection that needs the full server: it and the rest go to Fastify).
   */
  fastLane: BoundCounter<'outcome'>
  /** eth_calls tried on the view interpreter: answered there (`interpreter`) or handed to the EVM (`evm`). */
  viewCalls: Counter<'path'>
  /** WebSocket connections terminated for falling `wsMaxBufferedBytes` behind (clients that do not read). */
  wsSlowClosed: Counter
}

export function createRpcMetrics(register: Registry): RpcMetrics {
  const registers = [register]
  const connectionsRefused = new Counter({
    name: 'cairn_rpc_connections_refused_total',
    help: "Connections closed as they arrived, before any byte, by reason: per_ip (the address's cap, http.maxConnectionsPerIp), total (the port's limit, http.maxConnections), reserve (the last quarter of that limit, kept for addresses holding fewer than 8)",
    labelNames: ['reason'],
    registers,
  })
  for (const reason of CONNECTION_REFUSALS) connectionsRefused.labels({ reason }).inc(0)
  return {
    requests: new BoundCounter({
      name: 'cairn_rpc_requests_total',
      help: 'JSON-RPC requests by method and JSON-RPC error code (0 = success)',
      labelNames: ['method', 'code'],
      registers,
    }),
    duration: new BoundHistogram({
      name: 'cairn_rpc_request_duration_seconds',
      help: 'JSON-RPC request duration by method',
      labelNames: ['method'],
      buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers,
    }),
    connections: new Gauge({
      name: 'cairn_rpc_active_connections',
      help: 'Open WebSocket connections',
      labelNames: ['transport'],
      registers,
    }),
    refused: new Counter({
      name: 'cairn_rpc_refused_total',
      help: 'Requests refused before dispatch, by reason (unauthorized, forbidden, rate_limited, limit_store_down, overloaded, invalid_host, origin_forbidden)',
      labelNames: ['reason'],
      registers,
    }),
    connectionsRefused,
    connectionsSilent: new Counter({
      name: 'cairn_rpc_connections_closed_silent_total',
      help: 'Connections closed for sending nothing within the first-byte timeout (http.firstByteTimeoutMs)',
      registers,
    }),
    callCache: new Counter({
      name: 'cairn_rpc_call_cache_requests_total',
      help: 'eth_call requests by how they were answered: hit (remembered outcome at that block), joined (an identical call in flight), miss (executed), bypass (overrides or large input: executed, not remembered)',
      labelNames: ['result'],
      registers,
    }),
    viewCalls: new Counter({
      name: 'cairn_rpc_view_calls_total',
      help: 'Plain eth_calls tried on the view interpreter, by the path that answered: interpreter, or evm (the call did something the interpreter does not run: it ran in the EVM from the start)',
      labelNames: ['path'],
      registers,
    }),
    wsSlowClosed: new Counter({
      name: 'cairn_rpc_websocket_slow_clients_closed_total',
      help: 'WebSocket connections terminated for falling more than wsMaxBufferedBytes behind (clients that do not read what they are sent)',
      registers,
    }),
    fastLane: new BoundCounter({
      name: 'cairn_rpc_fast_lane_requests_total',
      help: "HTTP requests the port's fast lane took: answered (plain JSON-RPC POSTs, answered off the socket) or handed_over (the first request of a connection that needs the full server: it and the rest of that connection go there)",
      labelNames: ['outcome'],
      registers,
    }),
  }
}
