/**
 * The node's side of the remote signer: a {@link ConsensusSigner} whose key lives in a
 * `cairn signer serve` process, reached over mutual TLS (@cairn/keys `remote-signer/protocol.ts`).
 *
 * {@link RemoteSigner.connect} is the start: it connects, asks which keys the signer holds and
 * picks the validator's (the one asked for, or the only one) — an unreachable signer, a wrong
 * chain or an absent key is a start error. Later, a lost connection makes every signature fail at
 * once (the engine then sends nothing: the validator misses steps, and stays safe), logged once
 * and shown by `cairn_bft_remote_signer_up`; it reconnects in the background with backoff, and
 * the validator votes again as soon as the signer answers. A request not answered within
 * `timeoutMs` fails, and the connection is replaced (a half-open socket never recovers).
 *
 * Every signature is checked to be the validator's before it is used: under `secp256k1` it recovers
 * to its address; under `hybrid` and `ml-dsa-65` it has the scheme's length and verifies
 * (`verifyVoteSignature`) against the ML-DSA key that the validator set of the signed height
 * registers for the key's address. The sets come from the engine
 * ({@link RemoteSigner.followValidatorSets}, called when the engine is built, after the
 * connection): so a validator that joined through staking after the genesis, or a key it rotated
 * to, is checked against the key the chain registered for it. Before an engine gives the sets,
 * and for an address its set does not hold, the genesis's key is the fallback (`pqPublicKeyOf`);
 * a key never changes for an address, so a key once seen is kept. An address with no known key signs nothing (its signature could not be
 * checked), and a signer whose `keys` answer names another ML-DSA key than the set registers is
 * not asked at all: both are start-or-step errors saying which.
 */
import type { TLSSocket } from 'node:tls'
import {
  askKeys,
  encodeFrame,
  FrameReader,
  type KeysResult,
  openSocket,
  PROTOCOL_VERSION,
  parseResponse,
  parseSignerUrl,
  SignerErrorCode,
  type SignerResponse,
} from '@cairn/keys/remote-signer'
import { bytesToHex, CairnError, errorMessage, hexToBytes, type Logger } from '@cairn/utils'
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'
import type { Address, Proposal, SignedProposal, SignedVote, Vote } from '../bft/messages.ts'
import { pqAddress, type SignatureScheme, signatureBytes } from '../bft/pq/scheme.ts'
import { verifyVoteSignature } from '../bft/pq/verify-vote.ts'
import { proposalDigest, voteDigest } from '../bft/signing.ts'
import type { ValidatorSet } from '../bft/validator-set.ts'
import { ConsensusErrorCode } from '../errors.ts'
import { proposalToJson, voteToJson } from './messages-json.ts'
import type { ConsensusSigner, SignRefusal } from './validator-signer.ts'

export interface RemoteSignerOptions {
  chainId: bigint
  /** `tls://host:port`. */
  url: string
  tls: {
    /** The CA (or the signer's own certificate) the signer's certificate must chain to (PEM). */
    ca: string
    /** This node's client certificate and key (PEM); the signer pins the certificate. */
    cert: string
    key: string
  }
  /** The validator's address; absent: the signer's only key. */
  address?: Address
  /**
   * The keys it rotates to (`Staking.rotateConsensusKey`), held by the same signer: each height is
   * signed with the key in that height's set (the engine gives the sets: `followValidatorSets`).
   */
  nextAddresses?: readonly Address[]
  /** Longest wait for one answer (ms, default 1000); then the step goes unsigned. */
  timeoutMs?: number
  /** First and longest wait between reconnection attempts (ms; default 250 and 5000). */
  reconnectMs?: { min: number; max: number }
  /** The chain's consensus signature scheme (default `secp256k1`); the signer must serve the same. */
  scheme?: SignatureScheme
  /**
   * Under `hybrid` and `ml-dsa-65`: the ML-DSA-65 public key the genesis registers for an address
   * (null: none). At connect a key it names must be the signer's; later it is the fallback of the
   * per-height lookup in the engine's sets (before an engine gives them, or for an address the
   * set of a height does not hold). A validator that joined after the genesis, or a rotated key,
   * has none here: its key comes from the sets.
   */
  pqPublicKeyOf?: (address: Address) => Uint8Array | null
}

/** What {@link RemoteSigner.connect} found: the validator's key and what the signer says of its keys. */
interface ConnectedOptions extends RemoteSignerOptions {
  /** The key it signs with (the one asked for, or the signer's only one). */
  signingAddress: Address
  /** Under a PQ scheme: lowercase address → the `pqAddress` the signer's `keys` answer gives its ML-DSA key. */
  servedPqKeys: ReadonlyMap<string, string>
}

interface ConnectedModules extends RemoteSignerModules {
  /** The connection the handshake ran on. */
  socket: TLSSocket
}

export interface RemoteSignerMetrics {
  up: Gauge
  requests: Counter<'method' | 'outcome'>
  seconds: Histogram<'method'>
}

export function createRemoteSignerMetrics(register: Registry): RemoteSignerMetrics {
  const registers = [register]
  return {
    up: new Gauge({
      name: 'cairn_bft_remote_signer_up',
      help: '1 while the remote signer is connected (0: this validator cannot vote)',
      registers,
    }),
    requests: new Counter({
      name: 'cairn_bft_remote_signer_requests_total',
      help: 'Signature requests to the remote signer, by method and outcome (signed, refused, unavailable, error)',
      labelNames: ['method', 'outcome'],
      registers,
    }),
    seconds: new Histogram({
      name: 'cairn_bft_remote_signer_request_seconds',
      help: 'Time from a signature request to its answer',
      labelNames: ['method'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers,
    }),
  }
}

export interface RemoteSignerModules {
  logger: Logger
  metrics?: RemoteSignerMetrics | null
  /** The clock for request timing (default `performance.now`). */
  now?: () => number
}

interface Pending {
  resolve: (r: SignerResponse) => void
  reject: (err: CairnError) => void
  timer: ReturnType<typeof setTimeout>
}

function unavailable(message: string, cause?: unknown): CairnError {
  return new CairnError(ConsensusErrorCode.BFT_SIGNER_UNAVAILABLE, message, { fault: 'transient', cause })
}

export class RemoteSigner implements ConsensusSigner {
  readonly address: Address
  readonly addresses: readonly Address[]
  #setAt: ((height: number) => ValidatorSet) | undefined
  readonly #opts: RemoteSignerOptions
  readonly #m: RemoteSignerModules
  readonly #host: string
  readonly #port: number
  readonly #pending = new Map<number, Pending>()
  #socket: TLSSocket | null = null
  #nextId = 1
  #closed = false
  #retryMs: number
  #reconnecting: ReturnType<typeof setTimeout> | null = null
  #wasUp = true
  readonly #scheme: SignatureScheme
  /** Lowercase address → `pqAddress` of the ML-DSA key the signer says it holds (renewed at each reconnection). */
  #servedPqKeys: ReadonlyMap<string, string>
  /** Lowercase address → the ML-DSA key the chain registers for it (a key never changes for an address). */
  readonly #pqKeys = new Map<string, Uint8Array>()

  private constructor(opts: ConnectedOptions, modules: ConnectedModules) {
    const { signingAddress, servedPqKeys, ...rest } = opts
    const { socket, ...m } = modules
    this.#opts = rest
    this.#scheme = opts.scheme ?? 'secp256k1'
    this.#servedPqKeys = servedPqKeys
    this.#m = m
    this.address = signingAddress
    this.addresses = [signingAddress, ...(opts.nextAddresses ?? [])]
    ;({ host: this.#host, port: this.#port } = parseSignerUrl(opts.url))
    this.#retryMs = opts.reconnectMs?.min ?? 250
    this.#adopt(socket)
    m.metrics?.up.set(1)
  }

  /**
   * Connects, and checks the signer serves this chain and holds the key.
   * @throws CairnError `CONSENSUS_BFT_SIGNER_UNAVAILABLE` (cannot connect, TLS refused) or
   *   `CONSENSUS_BFT_SIGNER_CONFIG` (another chain, the key absent, several keys and no address)
   */
  static async connect(opts: RemoteSignerOptions, modules: RemoteSignerModules): Promise<RemoteSigner> {
    const { host, port } = parseSignerUrl(opts.url)
    const timeoutMs = opts.timeoutMs ?? 1000
    let socket: TLSSocket
    let keys: KeysResult
    try {
      socket = await openSocket(host, port, opts.tls, Math.max(timeoutMs, 5_000))
      keys = await askKeys(socket, Math.max(timeoutMs, 5_000))
    } catch (err) {
      throw new CairnError(
        ConsensusErrorCode.BFT_SIGNER_UNAVAILABLE,
        `remote signer ${opts.url} unreachable: ${errorMessage(err)}`,
        {
          fault: 'caller',
          cause: err,
          hint: 'start `cairn signer serve`, and check bft.signer.url, and that its certificate is signed by bft.signer.ca and this node’s certificate (bft.signer.cert) is pinned there (--client)',
        },
      )
    }
    const fail = (message: string, hint: string) => {
      socket.destroy()
      return new CairnError(ConsensusErrorCode.BFT_SIGNER_CONFIG, `remote signer ${opts.url}: ${message}`, {
        fault: 'caller',
        hint,
      })
    }
    if (keys.version !== PROTOCOL_VERSION) {
      throw fail(`speaks protocol ${keys.version}, this node ${PROTOCOL_VERSION}`, 'run the same Cairn release on both')
    }
    if (BigInt(keys.chainId) !== opts.chainId) {
      throw fail(
        `signs for chain ${keys.chainId}, this node runs chain ${opts.chainId}`,
        'start the signer with --chain-id of this chain',
      )
    }
    let address: Address
    if (opts.address !== undefined) {
      const want = bytesToHex(opts.address)
      if (!keys.keys.some((k) => k.toLowerCase() === want)) {
        throw fail(
          `holds no key for ${want} (it holds ${keys.keys.join(', ')})`,
          'give the signer that keystore, or fix bft.signer.address',
        )
      }
      address = opts.address
    } else if (keys.keys.length === 1) {
      address = hexToBytes(keys.keys[0] as string)
    } else {
      throw fail(`holds ${keys.keys.length} keys`, 'say which is this validator’s: bft.signer.address')
    }
    const scheme = opts.scheme ?? 'secp256k1'
    const served = keys.scheme ?? 'secp256k1'
    if (served !== scheme) {
      throw fail(
        `signs ${served} signatures, this node's chain uses ${scheme}`,
        'start the signer with --signature-scheme of this chain (and the ML-DSA seeds: --pq-seed-file)',
      )
    }
    for (const next of opts.nextAddresses ?? []) {
      const want = bytesToHex(next)
      if (!keys.keys.some((k) => k.toLowerCase() === want)) {
        throw fail(
          `holds no key for the next key ${want} (it holds ${keys.keys.join(', ')})`,
          scheme === 'secp256k1'
            ? 'import the next key into the signer (`cairn signer import-key`), or fix bft.signer.nextAddress'
            : 'give the signer the next key with its ML-DSA seed (hybrid: --keystore NEXT.json --pq-seed-file NEXT.seed; ml-dsa-65: --pq-seed-file NEXT.seed), or fix bft.signer.nextAddress',
        )
      }
    }
    const servedPqKeys = servedPqKeysOf(keys)
    if (scheme !== 'secp256k1') {
      // Each key's ML-DSA key: the genesis's when it registers one (a validator of the genesis set);
      // else (a validator that joined later, a key it rotates to) the chain's set checks it per height.
      const unregistered: string[] = []
      for (const a of [address, ...(opts.nextAddresses ?? [])]) {
        const want = bytesToHex(a)
        const served = servedPqKeys.get(want)
        if (served === undefined) {
          throw fail(
            `names no ML-DSA key for ${want} in its keys answer`,
            'give the signer the ML-DSA seed of this key (--pq-seed-file, paired with its --keystore)',
          )
        }
        const registered = opts.pqPublicKeyOf?.(a) ?? null
        if (registered === null) {
          unregistered.push(want)
          continue
        }
        if (served !== bytesToHex(pqAddress(registered))) {
          throw fail(
            `holds for ${want} an ML-DSA key (pqAddress ${served}) that is not the one the genesis registers (${bytesToHex(pqAddress(registered))})`,
            'give the signer the ML-DSA seed of this validator (--pq-seed-file, paired with its --keystore)',
          )
        }
      }
      if (unregistered.length > 0) {
        modules.logger.info(
          { keys: unregistered },
          'remote signer: the genesis registers no ML-DSA key for these keys (joined or rotated to after the genesis): each signature is checked against the key the validator set of its height registers',
        )
      }
    }
    return new RemoteSigner({ ...opts, signingAddress: address, servedPqKeys }, { ...modules, socket })
  }

  followValidatorSets(setAt: (height: number) => ValidatorSet): void {
    this.#setAt = setAt
  }

  /**
   * The key that signs at `height`: with next keys, the one in that height's set (null: none is,
   * and nothing is signed); otherwise the validator's key.
   */
  addressAt(height: number): Address | null {
    if (this.addresses.length === 1 || this.#setAt === undefined) return this.address
    const set = this.#setAt(height)
    return this.addresses.find((a) => set.indexOf(a) >= 0) ?? null
  }

  /** True while connected. */
  get up(): boolean {
    return this.#socket !== null
  }

  async signVote(vote: Vote): Promise<SignedVote | SignRefusal> {
    const key = this.addressAt(vote.height)
    if (key === null) return { refused: `no key of this validator is in the set of height ${vote.height}` }
    const pqPublicKey = this.#pqKeyToCheck(key, vote.height)
    const answer = await this.#sign('signVote', key, { vote: voteToJson(vote) })
    if ('refused' in answer) return answer
    this.#check(voteDigest(this.#opts.chainId, vote), answer.signature, key, pqPublicKey)
    return { ...vote, signature: answer.signature }
  }

  async signProposal(proposal: Proposal): Promise<SignedProposal | SignRefusal> {
    const key = this.addressAt(proposal.height)
    if (key === null) return { refused: `no key of this validator is in the set of height ${proposal.height}` }
    const pqPublicKey = this.#pqKeyToCheck(key, proposal.height)
    const answer = await this.#sign('signProposal', key, { proposal: proposalToJson(proposal) })
    if ('refused' in answer) return answer
    this.#check(proposalDigest(this.#opts.chainId, proposal), answer.signature, key, pqPublicKey)
    return { ...proposal, signature: answer.signature }
  }

  /**
   * The ML-DSA key `key`'s signature at `height` must verify under (null under secp256k1): the one
   * the set of `height` registers, else one seen before or the genesis's. Checked against what the
   * signer says it holds before anything is asked of it.
   * @throws CairnError `CONSENSUS_BFT_SIGNER_CONFIG` when no key is known for the address, or the
   *   signer holds another
   */
  #pqKeyToCheck(key: Address, height: number): Uint8Array | null {
    if (this.#scheme === 'secp256k1') return null
    const hex = bytesToHex(key)
    let pqPublicKey = this.#setAt?.(height).pqKeyOf(key) ?? this.#pqKeys.get(hex) ?? null
    pqPublicKey ??= this.#opts.pqPublicKeyOf?.(key) ?? null
    if (pqPublicKey === null) {
      throw new CairnError(
        ConsensusErrorCode.BFT_SIGNER_CONFIG,
        `no ML-DSA-65 key is registered for ${hex} (not in the validator set of height ${height}, nor in the genesis): its signature could not be checked, nothing is signed`,
        {
          fault: 'caller',
          hint: 'a key signs once the chain has it in a set (createValidator or rotateConsensusKey with its pqPublicKey)',
        },
      )
    }
    this.#pqKeys.set(hex, pqPublicKey)
    const served = this.#servedPqKeys.get(hex)
    const registered = bytesToHex(pqAddress(pqPublicKey))
    if (served !== registered) {
      throw new CairnError(
        ConsensusErrorCode.BFT_SIGNER_CONFIG,
        `remote signer ${this.#opts.url} holds for ${hex} an ML-DSA key (pqAddress ${served ?? 'none'}) that is not the one the chain registers (${registered}): nothing is signed`,
        {
          fault: 'caller',
          hint: 'give the signer the ML-DSA seed registered for this key (--pq-seed-file, paired with its --keystore)',
        },
      )
    }
    return pqPublicKey
  }

  /** Closes the connection and stops reconnecting; pending requests fail. */
  close(): void {
    this.#closed = true
    if (this.#reconnecting) clearTimeout(this.#reconnecting)
    this.#reconnecting = null
    this.#socket?.destroy()
    this.#socket = null
    this.#failPending(unavailable('the remote signer client is closed'))
  }

  #check(digest: Uint8Array, signature: Uint8Array, key: Address, pqPublicKey: Uint8Array | null): void {
    const check = verifyVoteSignature(this.#scheme, digest, signature, { address: key, pqPublicKey })
    if (!check.ok) {
      throw new CairnError(
        ConsensusErrorCode.BFT_SIGNER_PROTOCOL,
        `the remote signer answered a signature of another key, or none (${check.reason}: ${check.message})`,
        { fault: 'peer' },
      )
    }
  }

  async #sign(
    method: 'signVote' | 'signProposal',
    key: Address,
    body: Record<string, unknown>,
  ): Promise<{ signature: Uint8Array } | SignRefusal> {
    const now = this.#m.now ?? (() => performance.now())
    const started = now()
    const count = (outcome: string) => this.#m.metrics?.requests.inc({ method, outcome })
    let res: SignerResponse
    try {
      res = await this.#request({
        method,
        key: bytesToHex(key),
        chainId: this.#opts.chainId.toString(),
        ...body,
      })
    } catch (err) {
      count('unavailable')
      throw err
    } finally {
      this.#m.metrics?.seconds.observe({ method }, (now() - started) / 1000)
    }
    if ('error' in res) {
      if (res.error.code === SignerErrorCode.DOUBLE_SIGN) {
        count('refused')
        return { refused: `remote signer: ${res.error.message}` }
      }
      count('error')
      throw new CairnError(
        ConsensusErrorCode.BFT_SIGNER_PROTOCOL,
        `remote signer refused ${method}: ${res.error.code} ${res.error.message}`,
        { fault: 'peer' },
      )
    }
    const signature = (res.result as { signature?: unknown }).signature
    const bytes = signatureBytes(this.#scheme)
    if (typeof signature !== 'string' || signature.length !== 2 + 2 * bytes || !/^0x[0-9a-fA-F]+$/.test(signature)) {
      count('error')
      throw new CairnError(
        ConsensusErrorCode.BFT_SIGNER_PROTOCOL,
        `the remote signer answered no ${this.#scheme} signature (${bytes} bytes)`,
        { fault: 'peer' },
      )
    }
    count('signed')
    return { signature: hexToBytes(signature) }
  }

  #request(req: Record<string, unknown>): Promise<SignerResponse> {
    const socket = this.#socket
    if (socket === null) return Promise.reject(unavailable(`remote signer ${this.#opts.url} is unreachable`))
    const id = this.#nextId++
    return new Promise<SignerResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id)
        reject(unavailable(`remote signer ${this.#opts.url} did not answer within ${this.#opts.timeoutMs ?? 1000} ms`))
        // A socket that stopped answering is replaced.
        if (this.#socket === socket) socket.destroy()
      }, this.#opts.timeoutMs ?? 1000)
      this.#pending.set(id, { resolve, reject, timer })
      socket.write(encodeFrame({ id, ...req }))
    })
  }

  #adopt(socket: TLSSocket): void {
    this.#socket = socket
    const reader = new FrameReader()
    socket.on('data', (chunk: Buffer) => {
      let messages: unknown[]
      try {
        messages = reader.push(chunk)
      } catch (err) {
        this.#m.logger.warn({ err: errorMessage(err) }, 'remote signer: bad frame; reconnecting')
        socket.destroy()
        return
      }
      for (const m of messages) {
        let res: SignerResponse
        try {
          res = parseResponse(m)
        } catch (err) {
          this.#m.logger.warn({ err: errorMessage(err) }, 'remote signer: bad answer; reconnecting')
          socket.destroy()
          return
        }
        const p = this.#pending.get(res.id)
        if (p === undefined) continue // answered after its timeout
        this.#pending.delete(res.id)
        clearTimeout(p.timer)
        p.resolve(res)
      }
    })
    socket.on('error', (err) => {
      this.#m.logger.debug({ err: errorMessage(err) }, 'remote signer connection error')
    })
    socket.on('close', () => {
      if (this.#socket !== socket) return
      this.#socket = null
      this.#m.metrics?.up.set(0)
      this.#failPending(unavailable(`remote signer ${this.#opts.url}: connection lost`))
      if (this.#closed) return
      if (this.#wasUp) {
        this.#m.logger.error(
          { url: this.#opts.url },
          'remote signer unreachable: this validator does not vote until it is back',
        )
      }
      this.#wasUp = false
      this.#scheduleReconnect()
    })
  }

  #failPending(err: CairnError): void {
    for (const [id, p] of this.#pending) {
      clearTimeout(p.timer)
      this.#pending.delete(id)
      p.reject(err)
    }
  }

  #scheduleReconnect(): void {
    if (this.#closed || this.#reconnecting) return
    const wait = this.#retryMs
    this.#retryMs = Math.min(this.#retryMs * 2, this.#opts.reconnectMs?.max ?? 5_000)
    this.#reconnecting = setTimeout(() => {
      this.#reconnecting = null
      void this.#reconnect()
    }, wait)
    this.#reconnecting.unref?.()
  }

  async #reconnect(): Promise<void> {
    if (this.#closed) return
    const timeoutMs = Math.max(this.#opts.timeoutMs ?? 1000, 5_000)
    let socket: TLSSocket | undefined
    try {
      socket = await openSocket(this.#host, this.#port, this.#opts.tls, timeoutMs)
      const keys = await askKeys(socket, timeoutMs)
      // Any of its keys will do (after a rotation the old one may be gone from the signer).
      const held = new Set(keys.keys.map((k) => k.toLowerCase()))
      const want = this.addresses.map((a) => bytesToHex(a))
      if (
        BigInt(keys.chainId) !== this.#opts.chainId ||
        (keys.scheme ?? 'secp256k1') !== this.#scheme ||
        !want.some((a) => held.has(a))
      ) {
        throw new CairnError(
          ConsensusErrorCode.BFT_SIGNER_CONFIG,
          `the signer no longer holds ${want.join(' or ')} for chain ${this.#opts.chainId}`,
          { fault: 'caller' },
        )
      }
      this.#servedPqKeys = servedPqKeysOf(keys)
    } catch (err) {
      socket?.destroy()
      this.#m.logger.debug({ err: errorMessage(err) }, 'remote signer: reconnection failed')
      this.#scheduleReconnect()
      return
    }
    if (this.#closed) {
      socket.destroy()
      return
    }
    socket.removeAllListeners('data')
    this.#adopt(socket)
    this.#retryMs = this.#opts.reconnectMs?.min ?? 250
    this.#wasUp = true
    this.#m.metrics?.up.set(1)
    this.#m.logger.info({ url: this.#opts.url }, 'remote signer reachable again: this validator votes again')
  }
}

/** Lowercase address → `pqAddress` of its ML-DSA key, as a `keys` answer gives them (empty under secp256k1). */
function servedPqKeysOf(keys: KeysResult): Map<string, string> {
  const served = new Map<string, string>()
  for (const [i, k] of keys.keys.entries()) {
    const pq = keys.pqKeys?.[i]
    if (typeof pq === 'string') served.set(k.toLowerCase(), pq.toLowerCase())
  }
  return served
}
