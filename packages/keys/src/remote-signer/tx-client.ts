/**
 * A transaction key held by a remote signer (`cairn signer serve --tx-keystore`), as a viem
 * account: what `cairn arb` and `cairn reserves anchor` sign with under `--remote-signer`. The key
 * never enters this process; each transaction is sent unsigned and comes back as a signature the
 * signer made after checking its policy (tx-policy.ts), which is checked here to recover to the
 * key before it is used.
 *
 * One request at a time on one mutual-TLS connection; a connection that fails or does not answer
 * within `timeoutMs` is dropped, and the next transaction opens a new one. Refusals are
 * `CONSENSUS_BFT_SIGNER_REFUSED` (the caller's: nothing signed), an unreachable signer
 * `CONSENSUS_BFT_SIGNER_UNAVAILABLE` (transient). Messages and typed data are not signed: the
 * signer signs transactions only.
 */
import { readFileSync } from 'node:fs'
import type { TLSSocket } from 'node:tls'
import { CairnError, errorMessage, type Logger } from '@cairn/utils'
import { Counter, Histogram, type Registry } from 'prom-client'
import {
  getAddress,
  type Hex,
  keccak256,
  parseSignature,
  recoverAddress,
  serializeTransaction,
  type TransactionSerializable,
} from 'viem'
import { type LocalAccount, toAccount } from 'viem/accounts'
import { KeysErrorCode } from '../errors.ts'
import type { RemoteKeySource } from '../key-flags.ts'
import { readSecretFile } from '../secret-file.ts'
import { type KeysResult, PROTOCOL_VERSION, SignerErrorCode } from './protocol.ts'
import { askKeys, askOnce, openSocket, parseSignerUrl } from './signer-connection.ts'

export interface RemoteTxSignerMetrics {
  requests: Counter<'outcome'>
  seconds: Histogram
}

/** `cairn_remote_tx_signer_*`: every outcome exported at 0. */
export function createRemoteTxSignerMetrics(register: Registry): RemoteTxSignerMetrics {
  const registers = [register]
  const requests = new Counter({
    name: 'cairn_remote_tx_signer_requests_total',
    help: 'Transactions sent to the remote signer, by outcome (signed, refused, unavailable, error)',
    labelNames: ['outcome'],
    registers,
  })
  for (const outcome of ['signed', 'refused', 'unavailable', 'error']) requests.inc({ outcome }, 0)
  return {
    requests,
    seconds: new Histogram({
      name: 'cairn_remote_tx_signer_request_seconds',
      help: 'Time from a transaction sent to the remote signer to its signature',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
  }
}

export interface RemoteTxSignerModules {
  logger: Logger
  metrics?: RemoteTxSignerMetrics | null
  /** A monotonic clock in ms (default `performance.now`). */
  now?: () => number
  /** The caller's active W3C trace context (service-kit's `activeTraceContext`), sent with each transaction. */
  traceContext?: () => { traceparent?: string | undefined; tracestate?: string | undefined } | undefined
}

export interface RemoteTxSignerOptions {
  /** `tls://host:port`. */
  url: string
  tls: { ca: string; cert: string; key: string }
  /** The transaction key's address; absent: the signer's only transaction key. */
  address?: string
  /** Longest wait for a connection or an answer (ms, default 5000). */
  timeoutMs?: number
}

const unavailable = (url: string, err: unknown) =>
  new CairnError(KeysErrorCode.SIGNER_UNAVAILABLE, `remote signer ${url} unreachable: ${errorMessage(err)}`, {
    fault: 'transient',
    cause: err,
    hint: 'start `cairn signer serve`, check --remote-signer, and that this client certificate is pinned there (--client)',
  })

export class RemoteTxSigner {
  readonly address: Hex
  readonly chainId: bigint
  readonly #opts: RemoteTxSignerOptions
  readonly #m: RemoteTxSignerModules
  #socket: TLSSocket | null
  #queue: Promise<unknown> = Promise.resolve()
  #nextId = 1

  private constructor(
    opts: RemoteTxSignerOptions,
    modules: RemoteTxSignerModules,
    socket: TLSSocket,
    keys: KeysResult,
    address: Hex,
  ) {
    this.#opts = opts
    this.#m = modules
    this.#socket = socket
    this.address = address
    this.chainId = BigInt(keys.chainId)
  }

  /**
   * Connects and checks the signer holds the transaction key.
   * @throws CairnError `CONSENSUS_BFT_SIGNER_UNAVAILABLE` (cannot connect, TLS refused) or
   *   `CONSENSUS_BFT_SIGNER_CONFIG` (another protocol, the key absent, several keys and no address)
   */
  static async connect(opts: RemoteTxSignerOptions, modules: RemoteTxSignerModules): Promise<RemoteTxSigner> {
    const { socket, keys } = await RemoteTxSigner.#open(opts)
    const fail = (message: string, hint: string) => {
      socket.destroy()
      return new CairnError(KeysErrorCode.SIGNER_CONFIG, `remote signer ${opts.url}: ${message}`, {
        fault: 'caller',
        hint,
      })
    }
    if (keys.version !== PROTOCOL_VERSION)
      throw fail(
        `speaks protocol ${keys.version}, this client ${PROTOCOL_VERSION}`,
        'run the same Cairn release on both',
      )
    const held = (keys.txKeys ?? []).map((k) => k.toLowerCase())
    let address: string
    if (opts.address !== undefined) {
      address = opts.address.toLowerCase()
      if (!held.includes(address))
        throw fail(
          `holds no transaction key for ${address} (it holds ${held.join(', ') || 'none'})`,
          'give the signer that keystore (--tx-keystore), or fix --remote-signer-address',
        )
    } else if (held.length === 1) address = held[0] as string
    else
      throw fail(
        held.length === 0 ? 'holds no transaction key' : `holds ${held.length} transaction keys`,
        held.length === 0 ? 'start it with --tx-keystore FILE' : 'say which: --remote-signer-address',
      )
    modules.logger.info({ url: opts.url, address, chainId: keys.chainId }, 'remote transaction signer connected')
    return new RemoteTxSigner(opts, modules, socket, keys, getAddress(address))
  }

  static async #open(opts: RemoteTxSignerOptions): Promise<{ socket: TLSSocket; keys: KeysResult }> {
    const { host, port } = parseSignerUrl(opts.url)
    const timeoutMs = opts.timeoutMs ?? 5000
    let socket: TLSSocket | undefined
    try {
      socket = await openSocket(host, port, opts.tls, timeoutMs)
      return { socket, keys: await askKeys(socket, timeoutMs) }
    } catch (err) {
      socket?.destroy()
      throw unavailable(opts.url, err)
    }
  }

  /** Signs the keccak-256 of `unsigned` (an unsigned serialized transaction) on the signer. */
  signSerialized(unsigned: Hex): Promise<Hex> {
    const run = this.#queue.then(() => this.#measured(unsigned))
    this.#queue = run.catch(() => {})
    return run
  }

  async #measured(unsigned: Hex): Promise<Hex> {
    const now = this.#m.now ?? (() => performance.now())
    const t0 = now()
    const outcome = (o: string) => this.#m.metrics?.requests.inc({ outcome: o })
    try {
      const signature = await this.#sign(unsigned)
      outcome('signed')
      this.#m.metrics?.seconds.observe((now() - t0) / 1000)
      return signature
    } catch (err) {
      const code = err instanceof CairnError ? err.code : null
      outcome(
        code === KeysErrorCode.SIGNER_REFUSED
          ? 'refused'
          : code === KeysErrorCode.SIGNER_UNAVAILABLE
            ? 'unavailable'
            : 'error',
      )
      this.#m.logger.warn({ err: errorMessage(err), url: this.#opts.url }, 'remote signer gave no signature')
      throw err
    }
  }

  async #sign(unsigned: Hex): Promise<Hex> {
    const timeoutMs = this.#opts.timeoutMs ?? 5000
    if (this.#socket === null || this.#socket.destroyed) this.#socket = (await RemoteTxSigner.#open(this.#opts)).socket
    const socket = this.#socket
    const req = {
      id: this.#nextId++,
      method: 'signTransaction',
      key: this.address.toLowerCase(),
      chainId: this.chainId.toString(),
      tx: unsigned,
      ...traceFields(this.#m.traceContext?.()),
    }
    let res: Awaited<ReturnType<typeof askOnce>>
    try {
      res = await askOnce(socket, req, timeoutMs)
    } catch (err) {
      socket.destroy()
      this.#socket = null
      throw unavailable(this.#opts.url, err)
    }
    if ('error' in res) {
      const refused = res.error.code !== SignerErrorCode.INTERNAL
      throw new CairnError(
        refused ? KeysErrorCode.SIGNER_REFUSED : KeysErrorCode.SIGNER_UNAVAILABLE,
        `the remote signer ${refused ? 'refused' : 'failed to sign'} the transaction: ${res.error.message}`,
        { fault: refused ? 'caller' : 'transient', meta: { code: res.error.code } },
      )
    }
    const signature = (res.result as { signature?: unknown }).signature
    if (typeof signature !== 'string' || !/^0x[0-9a-fA-F]{130}$/.test(signature))
      throw new CairnError(KeysErrorCode.SIGNER_PROTOCOL, 'the remote signer answered no signature', {
        fault: 'peer',
      })
    const by = await recoverAddress({ hash: keccak256(unsigned), signature: signature as Hex })
    if (by !== this.address)
      throw new CairnError(
        KeysErrorCode.SIGNER_PROTOCOL,
        `the remote signer's signature recovers to ${by}, not ${this.address}`,
        { fault: 'peer' },
      )
    return signature as Hex
  }

  /** The key as a viem account: transactions only. */
  account(): LocalAccount {
    const notHere = async (): Promise<never> => {
      throw new CairnError(KeysErrorCode.SIGNER_REFUSED, 'the remote signer signs transactions only', {
        fault: 'caller',
      })
    }
    return toAccount({
      address: this.address,
      signMessage: notHere,
      signTypedData: notHere,
      signTransaction: async (tx, options) => {
        const serializer = options?.serializer ?? serializeTransaction
        const unsigned = (await serializer(tx as TransactionSerializable)) as Hex
        const signature = await this.signSerialized(unsigned)
        return (await serializer(tx as TransactionSerializable, parseSignature(signature))) as Hex
      },
    })
  }

  close(): void {
    this.#socket?.destroy()
    this.#socket = null
    this.#m.logger.debug({ url: this.#opts.url }, 'remote transaction signer closed')
  }
}

/** The W3C trace context fields of a request (none without a traceparent). */
function traceFields(c: { traceparent?: string | undefined; tracestate?: string | undefined } | undefined): {
  traceparent?: string
  tracestate?: string
} {
  if (!c?.traceparent) return {}
  return c.tracestate ? { traceparent: c.traceparent, tracestate: c.tracestate } : { traceparent: c.traceparent }
}

function readPemFile(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch (err) {
    throw new CairnError(KeysErrorCode.KEY_UNREADABLE, `cannot read the ${what} ${path}: ${errorMessage(err)}`, {
      fault: 'caller',
      hint: 'check the path',
      cause: err,
    })
  }
}

/** Connects to the signer and returns the key as a viem account, and what closes the connection. */
export async function openRemoteTxAccount(
  src: RemoteKeySource,
  modules: { logger: Logger; registry?: Registry | null; traceContext?: RemoteTxSignerModules['traceContext'] },
): Promise<{ account: LocalAccount; close: () => void }> {
  const tls = {
    ca: readPemFile(src.caFile, 'signer CA certificate'),
    cert: readPemFile(src.certFile, 'client certificate'),
    key: readSecretFile(src.keyFile, 'client key'),
  }
  const signer = await RemoteTxSigner.connect(
    { url: src.url, tls, ...(src.address !== undefined ? { address: src.address } : {}) },
    {
      logger: modules.logger,
      metrics: modules.registry ? createRemoteTxSignerMetrics(modules.registry) : null,
      ...(modules.traceContext ? { traceContext: modules.traceContext } : {}),
    },
  )
  return { account: signer.account(), close: () => signer.close() }
}
