/**
 * What the remote signer's port holds each connection to (docs/operations/keys.md, "Limits"):
 * before TLS the RPC port's limits (service-kit's `ConnectionCap`: per address and in all, counted
 * at accept) and a hard deadline on the handshake; after it, sessions per pinned client and in
 * all, a deadline on each frame begun, and a bound on the answers a client has not taken.
 */
import { MAX_FRAME_BYTES } from '@cairn/keys/remote-signer'
import { CairnError } from '@cairn/utils'
import { z } from 'zod'
import { ConsensusErrorCode } from '../errors.ts'

export interface SignerLimits {
  /** Open TCP connections on the port in all, counted at accept (before TLS); 0: no limit. */
  maxConnections: number
  /** Open TCP connections per client address (an IPv4 address, an IPv6 /64), at accept; 0: none of its own. */
  maxConnectionsPerIp: number
  /** A TLS handshake not finished this long (ms) after the connection arrived is cut, trickled or not. */
  handshakeTimeoutMs: number
  /** Sessions (pinned clients past TLS) in all. */
  maxSessions: number
  /** Sessions of one pinned certificate. */
  maxSessionsPerClient: number
  /** A frame whose first byte has arrived must be whole within this (ms); else the connection is closed. */
  frameTimeoutMs: number
  /** Answers buffered for a client beyond this many bytes: its connection is not read until it takes them. */
  maxBufferedBytes: number
  /** A client that takes none of its answers for this long (ms) while over the bound is disconnected. */
  stallTimeoutMs: number
}

/**
 * The defaults: a validator needs one session (two with a hot standby, one more per transaction
 * client), so a pinned client holds at most 4 and an address 8 connections; 128 in all stays far
 * below the process's descriptor limit; a handshake and a frame (a request is ~300 bytes) take
 * milliseconds on any link, so 5 s is generous; 1 MiB is thousands of answers.
 */
export const DEFAULT_SIGNER_LIMITS: Readonly<SignerLimits> = {
  maxConnections: 128,
  maxConnectionsPerIp: 8,
  handshakeTimeoutMs: 5_000,
  maxSessions: 16,
  maxSessionsPerClient: 4,
  frameTimeoutMs: 5_000,
  maxBufferedBytes: 1024 * 1024,
  stallTimeoutMs: 30_000,
}

const count = (min: number) => z.number().int().min(min).max(1_000_000)
const ms = z.number().int().min(50).max(600_000)

const LimitsSchema = z
  .object({
    maxConnections: count(0),
    maxConnectionsPerIp: count(0),
    handshakeTimeoutMs: ms,
    maxSessions: count(1),
    maxSessionsPerClient: count(1),
    frameTimeoutMs: ms,
    maxBufferedBytes: z
      .number()
      .int()
      .min(4 * MAX_FRAME_BYTES)
      .max(1024 ** 3),
    stallTimeoutMs: ms,
  })
  .strict()

/**
 * The limits in force: `given` over {@link DEFAULT_SIGNER_LIMITS}, checked.
 * @throws CairnError `CONSENSUS_BFT_SIGNER_CONFIG` naming the limit out of range
 */
export function resolveSignerLimits(given: Partial<SignerLimits> = {}): SignerLimits {
  const defined = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined))
  const r = LimitsSchema.safeParse({ ...DEFAULT_SIGNER_LIMITS, ...defined })
  if (!r.success) {
    const issue = r.error.issues[0]
    const name = String(issue?.path[0] ?? 'limits')
    throw new CairnError(
      ConsensusErrorCode.BFT_SIGNER_CONFIG,
      `remote signer limit ${name}: ${issue?.code === 'unrecognized_keys' ? 'unknown' : (issue?.message ?? 'invalid')}`,
      {
        fault: 'caller',
        hint: `the limits are ${Object.keys(DEFAULT_SIGNER_LIMITS).join(', ')} (counts are whole numbers; timeouts 50..600000 ms; maxBufferedBytes at least ${4 * MAX_FRAME_BYTES})`,
      },
    )
  }
  return r.data
}
