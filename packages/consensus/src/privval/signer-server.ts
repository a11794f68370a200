/**
 * The remote signer (`cairn signer serve`): validator keys in a process of their own, answering the
 * protocol of @cairn/keys `remote-signer/protocol.ts` over mutual TLS, with its own double-sign
 * protection (`protection-db.ts`).
 *
 * A client must present a certificate the signer trusts (`tls.ca`, or one of `tls.clients` itself)
 * *and* whose SHA-256 fingerprint is pinned (`tls.clients`): a certificate of the right CA that was
 * not pinned is refused. Every sign request is handled synchronously — parse, compute the digest
 * from the fields, check and record it durably, sign — so requests for one key from any number of
 * connections are serialized, and no two conflicting signatures can leave.
 *
 * The port is held to {@link SignerLimits} (signer-limits.ts): TCP connections per address and in
 * all as they arrive (service-kit's `ConnectionCap`, as the RPC port), a deadline on the TLS
 * handshake, then sessions per pinned client and in all, and per session a frame deadline and a
 * bound on unread answers (served-connection.ts). A height further ahead of a key's last one than
 * `maxHeightJump` is refused and not recorded (protection-db.ts). Errors never quote the request.
 */
import { X509Certificate } from 'node:crypto'
import type { AddressInfo, Socket } from 'node:net'
import { createServer, type Server, type TLSSocket } from 'node:tls'
import { type DigestKey, rawDigestKey } from '@cairn/keys'
import {
  boundMessage,
  checkTransaction,
  describeRequestProblem,
  type KeysResult,
  OPEN_TX_POLICY,
  PROTOCOL_VERSION,
  RequestSchema,
  SignerErrorCode,
  type SignerRequest,
  type SignerResponse,
  type TxPolicy,
} from '@cairn/keys/remote-signer'
import { ConnectionCap } from '@cairn/service-kit/connection-cap'
import { bytesToHex, CairnError, errorMessage, type Logger } from '@cairn/utils'
import type { Hex } from 'viem'
import { MsgType, signStepOf } from '../bft/messages.ts'
import { pqAddress, type SignatureScheme, signatureBytes } from '../bft/pq/scheme.ts'
import { proposalDigest, voteDigest } from '../bft/signing.ts'
import { ConsensusErrorCode } from '../errors.ts'
import { proposalFromJson, voteFromJson } from './messages-json.ts'
import type { SchemeDigestKey } from './pq-digest-key.ts'
import { DEFAULT_MAX_HEIGHT_JUMP, type SignProtection } from './protection-db.ts'
import { ServedConnection } from './served-connection.ts'
import { resolveSignerLimits, type SignerLimits } from './signer-limits.ts'
import type { SignerServerMetrics } from './signer-metrics.ts'

export interface SignerServerOptions {
  /** The one chain this signer signs for; requests for another are refused. */
  chainId: bigint
  host: string
  /** 0: any free port. */
  port: number
  tls: {
    /** The signer's certificate chain and key (PEM). */
    cert: string
    key: string
    /** CAs whose client certificates are accepted, if pinned (PEM). */
    ca?: string[]
    /** The pinned client certificates (PEM): only these may connect. */
    clients: string[]
  }
  /** What the port holds connections to; any not given: {@link DEFAULT_SIGNER_LIMITS}. */
  limits?: Partial<SignerLimits>
  /**
   * The most a key's next height may be ahead of the last it signed (default
   * {@link DEFAULT_MAX_HEIGHT_JUMP}; 0: no bound): one request for an absurd height would
   * otherwise make the key refuse every height the chain will reach.
   */
  maxHeightJump?: number
  /** What transaction keys may sign (@cairn/keys `remote-signer/tx-policy.ts`); default {@link OPEN_TX_POLICY}. */
  txPolicy?: TxPolicy
  /**
   * The chain's consensus signature scheme (default `secp256k1`). Under `hybrid` and `ml-dsa-65`
   * every validator key is a {@link SchemeDigestKey} of that scheme (`hybridDigestKey`,
   * `mlDsaDigestKey`), and the `keys` answer says the scheme and each key's ML-DSA key (its
   * `pqAddress`), so a node of another scheme, or with another ML-DSA key, refuses at start.
   */
  scheme?: SignatureScheme
}

export interface SignerServerModules {
  /**
   * The validator keys it holds: private keys (decrypted from their keystores by the caller), or
   * {@link DigestKey}s (keys on an HSM, @cairn/keys `hsm/`); under a post-quantum scheme, {@link SchemeDigestKey}s.
   */
  keys: readonly (Uint8Array | DigestKey)[]
  /**
   * The transaction keys (the arbitrage trading key, the anchoring key): they sign transactions
   * under the policy, never consensus messages; a validator key never signs a transaction.
   */
  txKeys?: readonly (Uint8Array | DigestKey)[]
  protection: SignProtection
  logger: Logger
  metrics?: SignerServerMetrics | null
  /** The clock for certificate dates (default `Date.now`). */
  now?: () => number
}

/** The SHA-256 fingerprint of a PEM certificate, as Node writes it (`AB:CD:…`). */
export function certificateFingerprint(pem: string): string {
  return new X509Certificate(pem).fingerprint256
}

export class SignerServer {
  readonly #opts: SignerServerOptions
  readonly #m: SignerServerModules
  /** Lowercase address → key. */
  readonly #keys = new Map<string, DigestKey>()
  /** Lowercase address → `pqAddress` of its ML-DSA key (PQ schemes only). */
  readonly #pqKeys = new Map<string, string>()
  readonly #scheme: SignatureScheme
  readonly #txKeys = new Map<string, DigestKey>()
  readonly #pinned: Set<string>
  readonly #limits: SignerLimits
  readonly #maxHeightJump: number
  /** Every connection from its arrival (TCP, then TLS), closed with the server. */
  readonly #raw = new Set<Socket>()
  /** Sessions (pinned, past TLS). */
  readonly #sockets = new Set<TLSSocket>()
  /** Sessions per client certificate fingerprint. */
  readonly #perClient = new Map<string, number>()
  #server: Server | undefined

  constructor(opts: SignerServerOptions, modules: SignerServerModules) {
    this.#opts = opts
    this.#m = modules
    this.#limits = resolveSignerLimits(opts.limits)
    this.#maxHeightJump = opts.maxHeightJump ?? DEFAULT_MAX_HEIGHT_JUMP
    if (!Number.isSafeInteger(this.#maxHeightJump) || this.#maxHeightJump < 0) {
      throw new CairnError(ConsensusErrorCode.BFT_SIGNER_CONFIG, 'maxHeightJump must be a whole number ≥ 0', {
        fault: 'caller',
        hint: `e.g. --max-height-jump ${DEFAULT_MAX_HEIGHT_JUMP} (0: no bound)`,
      })
    }
    if (modules.keys.length === 0 && (modules.txKeys?.length ?? 0) === 0) {
      throw new CairnError(ConsensusErrorCode.BFT_SIGNER_CONFIG, 'the remote signer holds no key', {
        fault: 'caller',
        hint: 'give it at least one validator keystore (--keystore FILE) or transaction keystore (--tx-keystore FILE)',
      })
    }
    this.#scheme = opts.scheme ?? 'secp256k1'
    for (const k of modules.keys) {
      const key = k instanceof Uint8Array ? rawDigestKey(k) : k
      const address = bytesToHex(key.address)
      const keyScheme = (key as Partial<SchemeDigestKey>).scheme ?? 'secp256k1'
      if (keyScheme !== this.#scheme) {
        throw new CairnError(
          ConsensusErrorCode.BFT_SIGNER_CONFIG,
          `validator key ${address} signs ${keyScheme}, but the signer serves a ${this.#scheme} chain`,
          {
            fault: 'caller',
            hint: 'give every validator key of a hybrid or ml-dsa-65 chain its ML-DSA seed (--pq-seed-file), and --signature-scheme of the chain',
          },
        )
      }
      if (this.#scheme !== 'secp256k1') {
        const pq = (key as SchemeDigestKey).pqPublicKey
        if (pq === null) {
          throw new CairnError(ConsensusErrorCode.BFT_SIGNER_CONFIG, `validator key ${address} has no ML-DSA key`, {
            fault: 'caller',
          })
        }
        const pqKey = bytesToHex(pqAddress(pq))
        if ([...this.#pqKeys.values()].includes(pqKey)) {
          throw new CairnError(
            ConsensusErrorCode.BFT_SIGNER_CONFIG,
            `validator key ${address} has the ML-DSA key of another validator key`,
            { fault: 'caller', hint: 'give each validator its own ML-DSA seed (--pq-seed-file)' },
          )
        }
        this.#pqKeys.set(address, pqKey)
      }
      if (this.#keys.has(address)) {
        throw new CairnError(ConsensusErrorCode.BFT_SIGNER_CONFIG, `validator key ${address} is given twice`, {
          fault: 'caller',
          hint: 'give each validator key once',
        })
      }
      this.#keys.set(address, key)
    }
    for (const k of modules.txKeys ?? []) {
      const key = k instanceof Uint8Array ? rawDigestKey(k) : k
      const address = bytesToHex(key.address)
      if (this.#keys.has(address))
        throw new CairnError(
          ConsensusErrorCode.BFT_SIGNER_CONFIG,
          `${address} is both a validator key and a transaction key`,
          {
            fault: 'caller',
            hint: 'a validator key signs consensus messages only: give transactions a key of their own',
          },
        )
      this.#txKeys.set(address, key)
    }
    if (opts.tls.clients.length === 0) {
      throw new CairnError(ConsensusErrorCode.BFT_SIGNER_CONFIG, 'the remote signer pins no client certificate', {
        fault: 'caller',
        hint: 'pin the certificate of each node allowed to sign (--client FILE.pem)',
      })
    }
    try {
      this.#pinned = new Set(opts.tls.clients.map(certificateFingerprint))
    } catch (err) {
      throw new CairnError(
        ConsensusErrorCode.BFT_SIGNER_CONFIG,
        `a client certificate does not parse: ${errorMessage(err)}`,
        {
          fault: 'caller',
          cause: err,
        },
      )
    }
  }

  /** The addresses of the validator keys it holds (lowercase hex). */
  get addresses(): string[] {
    return [...this.#keys.keys()]
  }

  /** The limits in force (the options' over the defaults). */
  get limits(): SignerLimits {
    return { ...this.#limits }
  }

  /** The most heights a key's next signature may be ahead of its last (0: no bound). */
  get maxHeightJump(): number {
    return this.#maxHeightJump
  }

  /** The addresses of the transaction keys it holds (lowercase hex). */
  get txAddresses(): string[] {
    return [...this.#txKeys.keys()]
  }

  /** Starts listening; resolves to the address it listens on. */
  async listen(): Promise<{ host: string; port: number }> {
    const server = createServer(
      {
        cert: this.#opts.tls.cert,
        key: this.#opts.tls.key,
        // The pin decides who may sign (checked in #accept): a pinned certificate need not chain
        // to a CA given here (it is accepted on its fingerprint and dates, as an SSH key is); with
        // `tls.ca`, it must also chain to one of them. Either way TLS 1.3 makes the client prove
        // it holds the certificate's private key (CertificateVerify).
        ca: [...(this.#opts.tls.ca ?? []), ...this.#opts.tls.clients],
        requestCert: true,
        rejectUnauthorized: false,
        minVersion: 'TLSv1.3',
        // From the connection's arrival, bytes or not (Node's default: 120 s). Node only reports
        // it (tlsClientError, below): the socket is the listener's to destroy.
        handshakeTimeout: this.#limits.handshakeTimeoutMs,
      },
      (socket) => this.#accept(socket),
    )
    // Counted as each TCP connection arrives, before any TLS byte: the RPC port's cap.
    new ConnectionCap(
      { perIp: this.#limits.maxConnectionsPerIp, total: this.#limits.maxConnections, firstByteMs: 0 },
      {
        refused: (reason, ip) => {
          this.#m.metrics?.refusedConnections.inc({ reason })
          this.#m.logger.debug({ reason, ip }, 'remote signer: connection refused as it arrived')
        },
      },
    ).attach(server)
    server.on('connection', (raw: Socket) => {
      if (raw.destroyed) return
      this.#raw.add(raw)
      raw.once('close', () => this.#raw.delete(raw))
    })
    server.on('tlsClientError', (err: NodeJS.ErrnoException, tlsSocket: TLSSocket) => {
      // Node leaves a connection whose handshake failed or timed out open: closed here.
      tlsSocket.destroy()
      // Closed before its handshake, by the cap (counted there) or by its client: not a failed handshake.
      if (err.code === 'ECONNRESET') return
      const timeout = err.code === 'ERR_TLS_HANDSHAKE_TIMEOUT'
      this.#m.metrics?.refusedConnections.inc({ reason: timeout ? 'handshake_timeout' : 'handshake' })
      // Debug only: a flood of failed handshakes would be a line each.
      this.#m.logger.debug(
        { err: boundMessage(errorMessage(err)), remote: tlsSocket.remoteAddress },
        'remote signer: a TLS handshake failed',
      )
    })
    this.#server = server
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) =>
        reject(
          new CairnError(
            ConsensusErrorCode.BFT_SIGNER_CONFIG,
            `remote signer cannot listen on ${this.#opts.host}:${this.#opts.port} (${err.code})`,
            { fault: 'caller', cause: err, hint: 'choose another --listen address or port' },
          ),
        ),
      )
      server.listen(this.#opts.port, this.#opts.host, () => resolve())
    })
    const a = server.address() as AddressInfo
    return { host: a.address, port: a.port }
  }

  async close(): Promise<void> {
    const server = this.#server
    this.#server = undefined
    for (const s of this.#sockets) s.destroy()
    for (const s of this.#raw) s.destroy()
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()))
  }

  /** Why a connected client may not sign, or null when it may: pinned, in its dates, chained to `tls.ca` when given. */
  #refusal(socket: TLSSocket): string | null {
    const x509 = socket.getPeerX509Certificate()
    if (x509 === undefined) return 'no client certificate'
    if (!this.#pinned.has(x509.fingerprint256)) return `certificate ${x509.fingerprint256} is not pinned`
    const now = (this.#m.now ?? Date.now)()
    if (now < Date.parse(x509.validFrom) || now > Date.parse(x509.validTo)) {
      return `certificate is outside its validity (${x509.validFrom} – ${x509.validTo})`
    }
    if ((this.#opts.tls.ca?.length ?? 0) > 0 && !socket.authorized) {
      return `certificate does not chain to the client CA: ${String(socket.authorizationError)}`
    }
    return null
  }

  #accept(socket: TLSSocket): void {
    socket.on('error', () => {})
    const refusal = this.#refusal(socket)
    if (refusal !== null) {
      this.#m.metrics?.refusedConnections.inc({ reason: 'unpinned' })
      this.#m.logger.warn({ remote: socket.remoteAddress, refusal }, 'remote signer: refused a client')
      socket.destroy()
      return
    }
    const cert = socket.getPeerCertificate()
    const fingerprint = cert.fingerprint256
    const name = cert.subject?.CN ?? fingerprint.slice(0, 23)
    const held = this.#perClient.get(fingerprint) ?? 0
    const over =
      this.#sockets.size >= this.#limits.maxSessions
        ? 'limit'
        : held >= this.#limits.maxSessionsPerClient
          ? 'per_client'
          : null
    if (over !== null) {
      this.#m.metrics?.refusedConnections.inc({ reason: over })
      this.#m.logger.warn(
        { client: name, sessions: this.#sockets.size, ofClient: held },
        over === 'limit'
          ? 'remote signer: refused a client: every session is taken (--max-sessions)'
          : 'remote signer: refused a client: it holds its most sessions (--max-sessions-per-client)',
      )
      socket.destroy()
      return
    }
    this.#sockets.add(socket)
    this.#perClient.set(fingerprint, held + 1)
    this.#m.metrics?.connections.inc()
    socket.setNoDelay(true)
    socket.setKeepAlive(true, 5_000)
    const log = this.#m.logger.child({ client: name })
    log.info({ remote: socket.remoteAddress }, 'remote signer: client connected')
    const metrics = this.#m.metrics
    new ServedConnection(this.#limits, {
      socket,
      answer: (m) => this.handle(m, log),
      log,
      events: {
        frameRejected: (reason) => metrics?.rejectedFrames.inc({ reason }),
        dropped: (reason) => metrics?.droppedConnections.inc({ reason }),
      },
    })
    socket.on('close', () => {
      if (this.#sockets.delete(socket)) {
        this.#m.metrics?.connections.dec()
        const left = (this.#perClient.get(fingerprint) ?? 1) - 1
        if (left <= 0) this.#perClient.delete(fingerprint)
        else this.#perClient.set(fingerprint, left)
      }
      log.info('remote signer: client disconnected')
    })
  }

  /** Answers one request (synchronously: check, record durably, sign). */
  handle(message: unknown, log: Logger = this.#m.logger): SignerResponse {
    const rawId = (message as { id?: unknown } | null)?.id
    const fallbackId = typeof rawId === 'number' && Number.isSafeInteger(rawId) && rawId >= 0 ? rawId : 0
    const parsed = RequestSchema.safeParse(message)
    if (!parsed.success) {
      this.#m.metrics?.requests.inc({ method: 'unknown', outcome: 'error' })
      return fail(fallbackId, SignerErrorCode.BAD_REQUEST, describeRequestProblem(parsed.error))
    }
    const req = parsed.data
    const outcome = (o: string) => this.#m.metrics?.requests.inc({ method: req.method, outcome: o })
    if (req.method === 'ping') {
      outcome('ok')
      return { id: req.id, result: {} }
    }
    if (req.method === 'keys') {
      outcome('ok')
      const result: KeysResult = {
        version: PROTOCOL_VERSION,
        chainId: this.#opts.chainId.toString(),
        keys: this.addresses,
        txKeys: this.txAddresses,
        ...(this.#scheme !== 'secp256k1'
          ? { scheme: this.#scheme, pqKeys: this.addresses.map((a) => this.#pqKeys.get(a) as string) }
          : {}),
      }
      return { id: req.id, result }
    }
    if (BigInt(req.chainId) !== this.#opts.chainId) {
      outcome('error')
      return fail(req.id, SignerErrorCode.WRONG_CHAIN, `this signer signs for chain ${this.#opts.chainId} only`)
    }
    const address = req.key.toLowerCase()
    if (req.method === 'signTransaction') return this.#signTransaction(req, address, outcome, log)
    const key = this.#keys.get(address)
    if (key === undefined) {
      outcome('error')
      return fail(req.id, SignerErrorCode.UNKNOWN_KEY, `no key for ${address}`)
    }
    const { height, round, step, digest } =
      req.method === 'signVote'
        ? (() => {
            const vote = voteFromJson(req.vote)
            return { ...vote, step: signStepOf(vote.type), digest: voteDigest(this.#opts.chainId, vote) }
          })()
        : (() => {
            const p = proposalFromJson(req.proposal)
            return { ...p, step: signStepOf(MsgType.PROPOSAL), digest: proposalDigest(this.#opts.chainId, p) }
          })()
    let check: ReturnType<SignProtection['checkAndRecord']>
    try {
      check = this.#m.protection.checkAndRecord(
        this.#opts.chainId,
        address,
        { height, round, step, digest },
        { maxHeightJump: this.#maxHeightJump },
      )
    } catch (err) {
      outcome('error')
      log.error({ err }, 'remote signer: the protection database failed; nothing signed')
      return fail(req.id, SignerErrorCode.INTERNAL, 'the protection database cannot be written')
    }
    if (!check.ok) {
      outcome('refused')
      log.warn({ key: address, height, round, step, reason: check.reason }, 'remote signer: refused a double sign')
      return fail(req.id, SignerErrorCode.DOUBLE_SIGN, check.reason)
    }
    let signature: Uint8Array
    try {
      signature = key.sign(digest)
    } catch (err) {
      // A key on an HSM that does not answer: nothing signed (recorded, so the same message may be signed again).
      outcome('error')
      log.error({ err: errorMessage(err), key: address }, 'remote signer: the key gave no signature')
      return fail(req.id, SignerErrorCode.INTERNAL, `the key gave no signature: ${errorMessage(err)}`)
    }
    if (signature.length !== signatureBytes(this.#scheme)) {
      outcome('error')
      log.error({ key: address, bytes: signature.length }, 'remote signer: the key gave a signature of another scheme')
      return fail(
        req.id,
        SignerErrorCode.INTERNAL,
        `the key gave ${signature.length} bytes, not a ${this.#scheme} signature`,
      )
    }
    outcome('signed')
    log.debug({ key: address, height, round, step, again: check.again }, 'remote signer: signed')
    return { id: req.id, result: { signature: bytesToHex(signature) } }
  }

  #signTransaction(
    req: Extract<SignerRequest, { method: 'signTransaction' }>,
    address: string,
    outcome: (o: string) => void,
    log: Logger,
  ): SignerResponse {
    const key = this.#txKeys.get(address)
    if (key === undefined) {
      outcome('error')
      return fail(req.id, SignerErrorCode.UNKNOWN_KEY, `no transaction key for ${address}`)
    }
    const check = checkTransaction(req.tx as Hex, this.#opts.chainId, this.#opts.txPolicy ?? OPEN_TX_POLICY)
    if (!check.ok) {
      outcome('refused')
      log.warn({ key: address, reason: check.reason }, 'remote signer: refused a transaction')
      return fail(req.id, SignerErrorCode.POLICY, check.reason)
    }
    let signature: Uint8Array
    try {
      signature = key.sign(check.hash)
    } catch (err) {
      outcome('error')
      log.error({ err: errorMessage(err), key: address }, 'remote signer: the key gave no signature')
      return fail(req.id, SignerErrorCode.INTERNAL, `the key gave no signature: ${errorMessage(err)}`)
    }
    outcome('signed')
    log.info(
      { key: address, to: check.to, value: check.value.toString(), nonce: check.nonce, ...traceIds(req.traceparent) },
      'remote signer: signed a transaction',
    )
    return { id: req.id, result: { signature: bytesToHex(signature) } }
  }
}

function fail(id: number, code: SignerErrorCode, message: string): SignerResponse {
  return { id, error: { code, message: boundMessage(message) } }
}

/** `trace_id` and `span_id` (the caller's span) of a request's W3C traceparent, for its log line. */
function traceIds(traceparent: string | undefined): { trace_id?: string; span_id?: string } {
  const m =
    traceparent === undefined ? null : /^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/.exec(traceparent)
  return m ? { trace_id: m[1] as string, span_id: m[2] as string } : {}
}
