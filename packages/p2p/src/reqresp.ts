import { CairnError, type Logger } from '@cairn/utils'
import type { Connection, Libp2p, PeerId, Stream } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import { ResponseCode, snappy, unsnappy } from './codec.ts'
import { P2pErrorCode } from './errors.ts'
import type { P2pMetrics } from './metrics.ts'
import { Quota } from './quota.ts'
import { PeerAction } from './scoring.ts'

/** Protocol ids of the request/response protocols (one stream per request). */
export const Protocol = {
  STATUS: '/cairn/req/status/1',
  BLOCKS_BY_RANGE: '/cairn/req/blocks_by_range/1',
  BLOCKS_BY_HASH: '/cairn/req/blocks_by_hash/1',
  POOLED_TRANSACTIONS_BY_HASH: '/cairn/req/pooled_transactions_by_hash/1',
} as const
export type Protocol = (typeof Protocol)[keyof typeof Protocol]

/** The frame that ends a response (after the chunks). */
const END = 0xff
/** Largest frame on the wire (a compressed block of the largest size, with room). */
export const MAX_FRAME_BYTES = 12 * 1024 * 1024
/** Largest request (they are small). */
const MAX_REQUEST_BYTES = 64 * 1024

export interface ProtocolSpec {
  /** Tokens a request costs, from its decoded payload (blocks asked for; 1 for status). */
  cost: (request: Uint8Array) => number
  /** Answers a request with response chunks (each an uncompressed payload). */
  handle: (peer: string, request: Uint8Array) => Promise<Uint8Array[]>
  /** Most chunks in a response; larger uncompressed chunks than `maxChunkBytes` are refused. */
  maxChunks: number
  maxChunkBytes: number
  /**
   * A soft limit on a response's uncompressed bytes (geth's `softResponseLimit`): the server
   * writes no chunk once the chunks written reach it (the first is always written), so a response
   * holds at most this less one byte plus one chunk. A requester refuses a chunk that comes after
   * the limit was reached (a peer fault). Absent: `maxChunks` bounds the response alone.
   */
  maxResponseBytes?: number
  /**
   * Runs once the response to `peer` is written and the peer has closed the stream, i.e. it has
   * read the whole answer (or serving failed, or the request timeout passed). A hang-up here cannot
   * overtake the answer: a connection closed while the answer is still unread in the peer's
   * buffers loses it (libp2p drops a stream's unread data when its connection ends).
   */
  served?: (peer: string) => void
}

export interface ReqRespModules {
  libp2p: Libp2p
  logger: Logger
  metrics: P2pMetrics | null
  /** Penalises a peer (misbehaviour on a request or response). */
  penalize: (peer: string, action: PeerAction, reason: string) => void
  now?: () => number
}

/**
 * Request/response over libp2p streams: a request is one length-prefixed, snappy-compressed frame;
 * the response is frames of `code ‖ snappy(payload)`, ended by an END frame. Requests are metered
 * per peer and protocol by a token bucket (over quota: a RATE_LIMITED answer and a mid-tolerance
 * penalty); every frame has a size cap on both sides.
 */
export class ReqResp {
  private readonly specs = new Map<string, ProtocolSpec>()
  private readonly quota: Quota

  constructor(
    private readonly opts: { requestTimeoutMs: number; quota: { capacity: number; perSecond: number } },
    private readonly modules: ReqRespModules,
  ) {
    this.quota = new Quota(opts.quota, modules.now)
  }

  async register(protocol: Protocol, spec: ProtocolSpec): Promise<void> {
    this.specs.set(protocol, spec)
    await this.modules.libp2p.handle(protocol, (stream, connection) => this.serve(protocol, spec, stream, connection), {
      maxInboundStreams: 8,
    })
  }

  private async serve(protocol: string, spec: ProtocolSpec, stream: Stream, connection: Connection): Promise<void> {
    const { metrics, penalize } = this.modules
    const peer = connection.remotePeer.toString()
    const lp = lpStream(stream, { maxDataLength: MAX_REQUEST_BYTES })
    const signal = AbortSignal.timeout(this.opts.requestTimeoutMs)
    try {
      const frame = (await lp.read({ signal })).subarray()
      metrics?.messages.inc({ topic: protocol, direction: 'in' })
      metrics?.bytes.inc({ topic: protocol, direction: 'in' }, frame.length)
      let request: Uint8Array
      try {
        request = unsnappy(frame, MAX_REQUEST_BYTES)
      } catch {
        penalize(peer, PeerAction.LowToleranceError, 'bad_request')
        await lp.write(new Uint8Array([ResponseCode.INVALID_REQUEST]), { signal })
        return
      }
      let cost: number
      try {
        cost = spec.cost(request)
      } catch {
        penalize(peer, PeerAction.LowToleranceError, 'bad_request')
        await lp.write(new Uint8Array([ResponseCode.INVALID_REQUEST]), { signal })
        return
      }
      if (!this.quota.take(`${peer} ${protocol}`, cost)) {
        penalize(peer, PeerAction.MidToleranceError, 'over_quota')
        await lp.write(new Uint8Array([ResponseCode.RATE_LIMITED]), { signal })
        return
      }
      let chunks: Uint8Array[]
      try {
        chunks = await spec.handle(peer, request)
      } catch (err) {
        const code =
          err instanceof CairnError && err.fault === 'peer' ? ResponseCode.INVALID_REQUEST : ResponseCode.SERVER_ERROR
        if (code === ResponseCode.INVALID_REQUEST) penalize(peer, PeerAction.LowToleranceError, 'bad_request')
        await lp.write(new Uint8Array([code]), { signal })
        return
      }
      let written = 0
      for (const chunk of chunks.slice(0, spec.maxChunks)) {
        if (spec.maxResponseBytes !== undefined && written >= spec.maxResponseBytes) break
        written += chunk.length
        const out = concat(ResponseCode.OK, snappy(chunk))
        metrics?.bytes.inc({ topic: protocol, direction: 'out' }, out.length)
        await lp.write(out, { signal })
      }
      await lp.write(new Uint8Array([END]), { signal })
      metrics?.messages.inc({ topic: protocol, direction: 'out' })
      await stream.close({ signal })
    } catch (err) {
      this.modules.logger.debug({ peer, protocol, err }, 'serving a request failed')
      stream.abort(err as Error)
    } finally {
      if (spec.served) {
        await closedByPeer(stream, this.opts.requestTimeoutMs)
        spec.served(peer)
      }
    }
  }

  /** Sends a request and collects the response chunks (decompressed, capped). */
  async request(peer: PeerId, protocol: Protocol, request: Uint8Array): Promise<Uint8Array[]> {
    const spec = this.specs.get(protocol)
    if (!spec) throw new CairnError(P2pErrorCode.REQUEST_FAILED, `protocol ${protocol} not registered`)
    const { metrics, libp2p } = this.modules
    const started = performance.now()
    const signal = AbortSignal.timeout(this.opts.requestTimeoutMs)
    let stream: Stream | undefined
    try {
      stream = await libp2p.dialProtocol(peer, protocol, { signal })
      const lp = lpStream(stream, { maxDataLength: MAX_FRAME_BYTES })
      const out = snappy(request)
      metrics?.messages.inc({ topic: protocol, direction: 'out' })
      metrics?.bytes.inc({ topic: protocol, direction: 'out' }, out.length)
      await lp.write(out, { signal })
      const chunks: Uint8Array[] = []
      let received = 0
      while (true) {
        const frame = (await lp.read({ signal })).subarray()
        metrics?.bytes.inc({ topic: protocol, direction: 'in' }, frame.length)
        const code = frame[0]
        if (code === END) break
        if (code !== ResponseCode.OK) {
          const what = code === ResponseCode.RATE_LIMITED ? P2pErrorCode.RATE_LIMITED : P2pErrorCode.REMOTE_ERROR
          throw new CairnError(what, `peer answered ${protocol} with code ${code}`, { fault: 'transient' })
        }
        if (chunks.length >= spec.maxChunks) {
          throw new CairnError(P2pErrorCode.TOO_LARGE, `more than ${spec.maxChunks} chunks`, { fault: 'peer' })
        }
        if (spec.maxResponseBytes !== undefined && received >= spec.maxResponseBytes) {
          throw new CairnError(P2pErrorCode.TOO_LARGE, `a chunk after ${spec.maxResponseBytes} bytes of response`, {
            fault: 'peer',
          })
        }
        const chunk = unsnappy(frame.subarray(1), spec.maxChunkBytes)
        received += chunk.length
        chunks.push(chunk)
      }
      metrics?.messages.inc({ topic: protocol, direction: 'in' })
      metrics?.requestSeconds.observe({ protocol }, (performance.now() - started) / 1000)
      await stream.close({ signal }).catch(() => {})
      return chunks
    } catch (err) {
      stream?.abort(err as Error)
      if (err instanceof CairnError) throw err
      throw new CairnError(P2pErrorCode.REQUEST_FAILED, `${protocol} to ${peer}: ${(err as Error).message}`, {
        fault: 'transient',
        cause: err,
      })
    }
  }
}

/** Resolves when the stream is closed at both ends (the peer closed its side), or after `ms`. */
function closedByPeer(stream: Stream, ms: number): Promise<void> {
  if (stream.status !== 'open' && stream.status !== 'closing') return Promise.resolve()
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer)
      resolve()
    }
    const timer = setTimeout(done, ms)
    timer.unref()
    stream.addEventListener('close', done, { once: true })
  })
}

function concat(code: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(payload.length + 1)
  out[0] = code
  out.set(payload, 1)
  return out
}
