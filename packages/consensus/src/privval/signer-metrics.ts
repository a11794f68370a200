/**
 * The remote signer's metrics (`cairn_signer_*`, docs/operations/keys.md): requests by method and
 * outcome, sessions open, and every connection, frame and session the signer refused or closed, by
 * reason, each reason exported at 0.
 */
import { FRAME_REJECTIONS } from '@cairn/keys/remote-signer'
import { CONNECTION_REFUSALS } from '@cairn/service-kit/connection-cap'
import { Counter, Gauge, type Registry } from 'prom-client'
import { SESSION_DROPS } from './served-connection.ts'

export interface SignerServerMetrics {
  requests: Counter<'method' | 'outcome'>
  connections: Gauge
  refusedConnections: Counter<'reason'>
  rejectedFrames: Counter<'reason'>
  droppedConnections: Counter<'reason'>
}

/** Why a connection was refused before it became a session (`cairn_signer_refused_connections_total{reason}`). */
export const SIGNER_REFUSALS = [
  ...CONNECTION_REFUSALS,
  'handshake',
  'handshake_timeout',
  'unpinned',
  'limit',
  'per_client',
] as const

/** `cairn_signer_*`: every reason exported at 0. */
export function createSignerServerMetrics(register: Registry): SignerServerMetrics {
  const registers = [register]
  const refusedConnections = new Counter({
    name: 'cairn_signer_refused_connections_total',
    help: "Connections refused, by reason: at accept per_ip (the address's cap, --max-connections-per-ip), total (--max-connections), reserve (the last quarter of it, kept for addresses holding fewer than 8); handshake (TLS failed), handshake_timeout (not done within --handshake-timeout-ms); after TLS unpinned, limit (--max-sessions), per_client (--max-sessions-per-client)",
    labelNames: ['reason'],
    registers,
  })
  for (const reason of SIGNER_REFUSALS) refusedConnections.inc({ reason }, 0)
  const rejectedFrames = new Counter({
    name: 'cairn_signer_rejected_frames_total',
    help: 'Frames rejected (their connection closed), by reason: empty, too_large (over 64 KiB), not_json, timeout (not whole within --frame-timeout-ms)',
    labelNames: ['reason'],
    registers,
  })
  for (const reason of FRAME_REJECTIONS) rejectedFrames.inc({ reason }, 0)
  const droppedConnections = new Counter({
    name: 'cairn_signer_dropped_connections_total',
    help: 'Sessions the signer closed, by reason: bad_frame, frame_timeout, slow_reader (answers not taken within the stall timeout), fault (an error while answering)',
    labelNames: ['reason'],
    registers,
  })
  for (const reason of SESSION_DROPS) droppedConnections.inc({ reason }, 0)
  return {
    requests: new Counter({
      name: 'cairn_signer_requests_total',
      help: 'Requests the remote signer answered, by method and outcome (signed, refused, error)',
      labelNames: ['method', 'outcome'],
      registers,
    }),
    connections: new Gauge({ name: 'cairn_signer_connections', help: 'Open client sessions (past TLS)', registers }),
    refusedConnections,
    rejectedFrames,
    droppedConnections,
  }
}
