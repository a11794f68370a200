// Over 600 lines, on purpose: the composition of the P2P node (host, status exchange, gossip,
// request/response, sync, scores, kept peers) and the RPC's view of it, wired in one place as the
// node wires its packages; each part it wires lives in its own file.
import { randomBytes } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Chain } from '@cairn/chain'
import { encodeBlock, encodedTx, type ForkPoints, forkId, forkPointsOf } from '@cairn/chain'
import type { TxPool } from '@cairn/txpool'
import { bytesToHex, CairnError, type Logger } from '@cairn/utils'
import type { Block } from '@ethereumjs/block'
import type { TypedTransaction } from '@ethereumjs/tx'
import type { SubscriptionChangeData } from '@libp2p/gossipsub'
import type { MultiaddrConnection, PeerId } from '@libp2p/interface'
import { type Multiaddr, multiaddr } from '@multiformats/multiaddr'
import { BanList } from './bans.ts'
import {
  ANNOUNCEMENT_NONCE_BYTES,
  decodeHashes,
  decodeRange,
  decodeStatus,
  encodeHashes,
  encodeRange,
  encodeStatus,
  encodeTxAnnouncement,
  MAX_ANNOUNCED_TXS,
  MAX_CARRIED_TX_BYTES,
  MAX_CARRIED_TXS,
  type Status,
  type TxAnnouncement,
} from './codec.ts'
import type { P2pConfig } from './config.ts'
import { P2pErrorCode } from './errors.ts'
import type { IdentitySigner } from './external-identity.ts'
import { type ConsensusGossip, Gossip, topicsOf } from './gossip.ts'
import { GOSSIP_THRESHOLDS, gossipScoreParams } from './gossip-score.ts'
import { createHost, type Host } from './host.ts'
import { nodeIdentityKey } from './identity.ts'
import { InboundLimiter } from './inbound-limits.ts'
import type { P2pMetrics } from './metrics.ts'
import { peerIdOf } from './peer-ids.ts'
import { blockPenalty } from './penalty.ts'
import { Redialer } from './redial.ts'
import { Protocol, ReqResp } from './reqresp.ts'
import { type PeerAction, PeerScores, type ScoreState } from './scoring.ts'
import { statusMismatch } from './status.ts'
import { RangeSync } from './sync.ts'
import { MAX_TX_BYTES, MAX_TX_REQUEST, TxFetcher } from './tx-fetch.ts'

/** Most blocks one blocks_by_range or blocks_by_hash request may ask for. */
export const MAX_REQUEST_BLOCKS = 1024
/**
 * The soft limit on a blocks_by_range or blocks_by_hash answer's bytes: no block is added once the
 * answer reaches it (geth serves bodies up to 2 MiB a response). A short answer is no fault: the
 * range sync asks for the rest. Without it an answer of 1,024 blocks could hold 8 GiB (EIP-7934's
 * 8 MiB blocks), and under the hybrid scheme each block's certificate alone is ~3.4 MB at 1,000
 * validators: the 128 blocks of a sync batch would be ~435 MB, two batches from each of 4 peers
 * in flight ~3.5 GB. With the limit, at most 8 × (16 MiB + one block).
 */
export const MAX_RESPONSE_BYTES = 16 * 1024 * 1024
/** How deep a gossiped block's missing ancestors are looked up by hash before range sync takes over. */
const MAX_LOOKUP_DEPTH = 32

export interface P2pOptions extends P2pConfig {
  /** Where bans and known peers live (`<datadir>/p2p`), and the node key when none is given; null: memory. */
  dir: string | null
  /**
   * The node's identity as a raw secp256k1 private key (the node's `keys/node.key`, managed by
   * `cairn keys`); the peer id derives from it. Without it, an Ed25519 key kept in `dir/nodekey`.
   */
  identityKey?: Uint8Array
  /** Largest encoded block accepted. */
  maxBlockBytes: number
  /** Soft limit on a block answer's bytes (default {@link MAX_RESPONSE_BYTES}; tests lower it). */
  maxResponseBytes?: number
  /** Request quota per peer and protocol (tokens = blocks asked for; 1 per status). */
  quota?: { capacity: number; perSecond: number }
  /**
   * Publish each new head (default true): a producer's blocks reach the network this way. A
   * follower sets it false: what it imports from gossip is forwarded by gossipsub already, and
   * what it syncs is old news.
   */
  announceHeads?: boolean
  /** Milliseconds between score heartbeats. */
  heartbeatMs?: number
  /** Milliseconds transactions admitted by the pool wait to be announced together (default 10). */
  txAnnounceMs?: number
  /**
   * Milliseconds after a peer subscribes to the blocks topic before its status is asked for again
   * (default 1,000): a head it sealed after the first status but before it knew of our
   * subscription reached us by neither, and would wait for its next block or status refresh.
   */
  subscribedStatusDelayMs?: number
}

export interface P2pModules {
  chain: Chain
  pool: TxPool
  logger: Logger
  metrics: P2pMetrics | null
  /** Milliseconds since the epoch (injected in tests). */
  now?: () => number
  /**
   * The node's identity when its key is held outside this process (an HSM: `p2p.identity` kind
   * `hsm`); it takes the place of `opts.identityKey` and `dir/nodekey`.
   */
  identity?: IdentitySigner | null
}

/** A connected peer that passed the status exchange. */
interface PeerState {
  id: PeerId
  status: Status
  /** When the status was last exchanged (ms). */
  at: number
}

/** eth_syncing's object. */
export interface SyncProgress {
  startingBlock: bigint
  currentBlock: bigint
  highestBlock: bigint
}

/** How often announcements that reached no peer are tried again, and how many are kept for it. */
const ANNOUNCE_RETRY_MS = 500
const MAX_UNSENT_ANNOUNCEMENTS = 4096
/** How long the pool's re-announcement to peers joining the transaction topic waits (joins coalesce). */
const REANNOUNCE_DELAY_MS = 500
/** Status exchanges that fail for no fault of the peer are tried this many more times. */
const STATUS_RETRIES = 3
/** Kept peers (bootnodes, known peers, admin_addPeer) are dialled again after 1 s, doubling up to a minute. */
const REDIAL_MIN_MS = 1000
const REDIAL_MAX_MS = 60_000
/** The peer-store tag of kept peers: the connection pruner closes them last. */
const KEPT_TAG = 'cairn-kept'
/** Failed dials in a row after which a peer remembered from the last run (peers.json) is given up. */
const KNOWN_PEER_TRIES = 5

/**
 * The node's peer-to-peer network: the libp2p host, the status exchange that refuses other
 * chains, request/response (status, blocks by range, blocks by hash), gossip (blocks,
 * transactions, consensus), range sync and parent lookup, and peer scoring with bans. It answers
 * what the RPC asks of the network (the shape of rpc's `RpcNetwork`, wired by the node).
 */
export class P2pNetwork {
  readonly scores: PeerScores
  readonly bans: BanList
  private host!: Host
  private reqresp!: ReqResp
  private gossip!: Gossip
  readonly sync: RangeSync
  private readonly peerStates = new Map<string, PeerState>()
  private readonly points: ForkPoints
  private heartbeat: NodeJS.Timeout | undefined
  private readonly unsubscribe: (() => void)[] = []
  private readonly lookups = new Set<string>()
  private started = false
  private fetcher!: TxFetcher
  private readonly redialer: Redialer
  private announceQueue: TxAnnouncement[] = []
  private announceTimer: NodeJS.Timeout | undefined
  private reannounceTimer: NodeJS.Timeout | undefined
  private readonly statusTimers = new Set<NodeJS.Timeout>()

  private constructor(
    private readonly opts: P2pOptions,
    private readonly modules: P2pModules,
  ) {
    const now = modules.now ?? Date.now
    this.scores = new PeerScores(now)
    this.bans = new BanList({ path: opts.dir ? join(opts.dir, 'bans.json') : null }, { logger: modules.logger, now })
    this.points = forkPointsOf(modules.chain)
    // Before the host: a status answered as soon as it listens marks its peer established.
    this.redialer = new Redialer(
      { minMs: REDIAL_MIN_MS, maxMs: REDIAL_MAX_MS },
      {
        dial: async (_peer, address) => {
          await this.host.dial(multiaddr(address), { signal: AbortSignal.timeout(this.opts.requestTimeoutMs) })
        },
        connected: (peer) => this.host.getConnections(peerIdOf(peer)).length > 0,
        logger: modules.logger,
      },
    )
    this.sync = new RangeSync(
      { batch: opts.syncBatch, parallel: opts.syncParallel },
      {
        chain: modules.chain,
        logger: modules.logger,
        metrics: modules.metrics,
        peers: () =>
          [...this.peerStates.values()].map((p) => ({ id: p.id.toString(), headNumber: p.status.headNumber })),
        fetchRange: (peer, start, count) => this.blocksByRange(peer, start, count),
        penalize: (peer, action, reason) => this.penalize(peer, action, reason),
      },
    )
  }

  /** Makes the host (identity from the datadir) and starts it: listening, protocols, gossip, bootnodes. */
  static async start(opts: P2pOptions, modules: P2pModules): Promise<P2pNetwork> {
    const net = new P2pNetwork(opts, modules)
    await net.startHost()
    return net
  }

  private async startHost(): Promise<void> {
    const { opts, modules } = this
    const { chain, logger } = modules
    const privateKey = await nodeIdentityKey(opts, modules)
    const deny = new Set(opts.deny)
    // Denied, banned, or disconnected for a low score that has not decayed yet: not let back in.
    const refused = (peer: PeerId) => {
      const id = peer.toString()
      if (opts.allow.includes(id)) return false
      const reason = deny.has(id)
        ? 'denied'
        : this.bans.isBanned(id)
          ? 'banned'
          : this.scores.state(id) !== 'healthy'
            ? 'low_score'
            : undefined
      if (reason) {
        modules.metrics?.refusedConnections.inc({ reason })
        logger.debug({ peer: id, reason }, 'connection refused')
      }
      return reason !== undefined
    }
    // Per remote IP, at arrival (before the handshake is paid for): this limiter, not libp2p's
    // own rate limit (5 a second per host, refusals it neither counts nor lets us exempt loopback).
    const limiter = new InboundLimiter(
      {
        maxPerIp: opts.maxPeersPerIp,
        maxPendingPerIp: opts.maxPendingPerIp,
        ratePerIp: opts.inboundRatePerIp,
        windowMs: 1000,
        exempt: opts.limitsExempt,
      },
      modules.now ? { now: modules.now } : {},
    )
    // Inbound connections admitted by the limiter and still in their handshake: their `upgraded`.
    const inHandshake = new WeakMap<MultiaddrConnection, () => void>()
    const genesis = bytesToHex(chain.genesisBlock.hash())
    const topics = topicsOf(chain.genesis.chainId, genesis)
    this.host = await createHost({
      score: {
        params: gossipScoreParams(topics, { ipColocationThreshold: opts.maxPeersPerIp }),
        thresholds: GOSSIP_THRESHOLDS,
      },
      privateKey,
      listen: [`/ip4/${opts.host}/tcp/${opts.port}`],
      announce: opts.announce,
      maxConnections: opts.maxPeers,
      handshakeTimeoutMs: opts.handshakeTimeoutMs,
      dhtProtocol: opts.dht ? `/cairn/${chain.genesis.chainId}/${genesis.slice(2, 10)}/kad/1.0.0` : null,
      ...(modules.metrics
        ? {
            gossipMetrics: {
              register: modules.metrics.gossipsub,
              topics: new Map(Object.entries(topics).map(([label, topic]) => [topic, label])),
            },
          }
        : {}),
      gater: {
        denyDialPeer: refused,
        denyInboundEncryptedConnection: refused,
        denyInboundConnection: (maConn) => {
          const ip = hostOf(maConn.remoteAddr)
          if (ip === undefined) return false
          const admission = limiter.admit(ip)
          if (!admission.ok) {
            modules.metrics?.refusedConnections.inc({ reason: admission.reason })
            logger.debug(
              { ip, reason: admission.reason, live: admission.live, addr: maConn.remoteAddr.toString() },
              'inbound connection refused',
            )
            return true
          }
          // Counted until the raw connection closes: through a failed handshake, or the connection's
          // life; as pending until its handshake is done (denyInboundUpgradedConnection).
          if (maConn.status === 'closed') admission.release()
          else {
            maConn.addEventListener('close', admission.release, { once: true })
            inHandshake.set(maConn, admission.upgraded)
          }
          return false
        },
        denyInboundUpgradedConnection: (_peer, maConn) => {
          inHandshake.get(maConn)?.()
          inHandshake.delete(maConn)
          return false
        },
      },
    })
    this.reqresp = new ReqResp(
      { requestTimeoutMs: opts.requestTimeoutMs, quota: opts.quota ?? { capacity: 4096, perSecond: 1024 } },
      {
        libp2p: this.host,
        logger,
        metrics: modules.metrics,
        penalize: (p, a, r) => this.penalize(p, a, r),
        ...(modules.now ? { now: modules.now } : {}),
      },
    )
    await this.registerProtocols()
    this.fetcher = new TxFetcher({
      chain,
      pool: modules.pool,
      logger,
      request: (peer, hashes) => this.pooledTransactions(peer, hashes),
      penalize: (p, a, r) => this.penalize(p, a, r),
    })
    this.gossip = new Gossip(topics, {
      pubsub: this.host.services.pubsub,
      chain,
      logger,
      onTxAnnouncement: (peer, txs) => this.fetcher.announced(peer, txs),
      metrics: modules.metrics,
      maxBlockBytes: opts.maxBlockBytes,
      penalize: (p, a, r) => this.penalize(p, a, r),
      onUnknownParent: (peer, result) => void this.lookupParent(peer.toString(), result.block),
    })
    this.gossip.start()
    this.host.addEventListener('connection:open', (e) => {
      const conn = e.detail
      logger.debug({ peer: conn.remotePeer.toString(), direction: conn.direction, conn: conn.id }, 'connection open')
      this.updatePeerGauge()
      // The dialler opens the status exchange; the other side checks it in its handler.
      if (conn.direction === 'outbound') void this.exchangeStatus(conn.remotePeer)
    })
    this.host.addEventListener('connection:close', (e) => {
      const conn = e.detail
      logger.debug({ peer: conn.remotePeer.toString(), direction: conn.direction, conn: conn.id }, 'connection closed')
    })
    this.host.addEventListener('peer:disconnect', (e) => {
      const id = e.detail.toString()
      logger.debug({ peer: id }, 'peer disconnected')
      this.peerStates.delete(id)
      this.updatePeerGauge()
      this.redialer.disconnected(id)
    })
    this.host.addEventListener('peer:discovery', (e) => {
      if (this.host.getConnections().length < opts.maxPeers) void this.host.dial(e.detail.id).catch(() => {})
    })
    const onHead = ({ block }: { block: Block }) => {
      if (opts.announceHeads !== false && !this.sync.active) {
        void this.gossip.publish(encodeBlock(block), this.gossip.topics.blocks)
      }
    }
    chain.events.on('newHead', onHead)
    this.unsubscribe.push(() => chain.events.off('newHead', onHead))
    // eth/68: what the pool admits (RPC or fetched) is announced by hash, type and size, in batches.
    const onTx = (tx: TypedTransaction) => {
      if (tx.type === 3) return
      this.fetcher.admitted(tx.hash())
      // A small transaction this node's own RPC admitted travels with its announcement: every
      // peer wants it (none has it yet), so a request for it would only add a round trip.
      const body = encodedTx(tx)
      const carry = body.length <= MAX_CARRIED_TX_BYTES && modules.pool.isLocal(tx.hash())
      this.announceQueue.push({ type: tx.type, size: body.length, hash: tx.hash(), ...(carry ? { body } : {}) })
      this.announceTimer ??= setTimeout(() => void this.flushAnnouncements(), opts.txAnnounceMs ?? 10)
    }
    modules.pool.events.on('added', onTx)
    this.unsubscribe.push(() => modules.pool.events.off('added', onTx))
    const onSubscription = (e: CustomEvent<SubscriptionChangeData>) => this.subscribed(e.detail)
    const pubsub = this.host.services.pubsub
    pubsub.addEventListener('subscription-change', onSubscription)
    this.unsubscribe.push(() => pubsub.removeEventListener('subscription-change', onSubscription))
    this.heartbeat = setInterval(() => this.scoreHeartbeat(), opts.heartbeatMs ?? 10_000)
    this.heartbeat.unref()
    this.started = true
    logger.info({ peerId: this.host.peerId.toString(), addrs: this.listenAddrs() }, 'p2p listening')
    for (const addr of opts.bootnodes) void this.addPeer(addr)
    // Peers only remembered from the last run may be gone for good: given up after a few tries.
    for (const addr of this.knownPeers()) void this.addPeer(addr, { giveUpAfter: KNOWN_PEER_TRIES })
  }

  async stop(): Promise<void> {
    if (!this.started) return
    this.started = false
    clearInterval(this.heartbeat)
    clearTimeout(this.announceTimer)
    clearTimeout(this.reannounceTimer)
    for (const t of this.statusTimers) clearTimeout(t)
    this.statusTimers.clear()
    this.redialer.stop()
    this.sync.stop()
    this.fetcher.stop()
    for (const off of this.unsubscribe) off()
    this.saveKnownPeers()
    this.gossip.stop()
    await this.host.stop()
    await this.sync.settled()
    await this.fetcher.settled()
  }

  /**
   * Publishes the queued announcements. One that no peer would receive yet (a node that has just
   * started or restarted, before its peers' subscriptions are known) is kept and tried again every
   * `ANNOUNCE_RETRY_MS` while its transactions are still pooled: otherwise a transaction sent to a
   * follower that had no subscribed peer would never reach the producer.
   */
  private async flushAnnouncements(): Promise<void> {
    this.announceTimer = undefined
    const { pool } = this.modules
    const queue = this.announceQueue.filter((t) => pool.get(t.hash) !== undefined)
    this.announceQueue = []
    const unsent: TxAnnouncement[] = []
    const carried = queue.filter((t) => t.body !== undefined)
    const bare = queue.filter((t) => t.body === undefined)
    const chunks: TxAnnouncement[][] = []
    for (let i = 0; i < carried.length; i += MAX_CARRIED_TXS) chunks.push(carried.slice(i, i + MAX_CARRIED_TXS))
    for (let i = 0; i < bare.length; i += MAX_ANNOUNCED_TXS) chunks.push(bare.slice(i, i + MAX_ANNOUNCED_TXS))
    for (const chunk of chunks) {
      const sent = await this.gossip.publishTo(
        encodeTxAnnouncement(chunk, announcementNonce()),
        this.gossip.topics.txs,
        {
          requirePeers: true,
        },
      )
      if (sent === 0) unsent.push(...chunk)
    }
    if (unsent.length > 0 && this.started) {
      this.announceQueue.unshift(...unsent.slice(-MAX_UNSENT_ANNOUNCEMENTS))
      this.announceTimer ??= setTimeout(() => void this.flushAnnouncements(), ANNOUNCE_RETRY_MS)
    }
  }

  get peerId(): string {
    return this.host.peerId.toString()
  }

  get topics(): { blocks: string; txs: string; consensus: string } {
    return this.gossip.topics
  }

  /** Publishes an encoded block on the blocks topic (the node does it for each new head). */
  publishBlock(bytes: Uint8Array): Promise<void> {
    return this.gossip.publish(bytes, this.gossip.topics.blocks)
  }

  /**
   * A peer joined the transaction topic (a new node, or one restarted): the pool's pending
   * transactions are announced again, once for every peer joining within REANNOUNCE_DELAY_MS. A
   * transaction is announced when the pool admits it, so a peer away at that moment (a producer
   * restarting) never heard of it, and would queue every later nonce of its sender behind the gap
   * (found by the chaos testbed, `--topology producer`). Each sender's lowest nonces first, at most
   * MAX_UNSENT_ANNOUNCEMENTS; peers fetch only the bodies they lack. `perSender` caps the
   * transactions of one sender.
   */
  private reannouncePool(perSender: number, delayMs: number): void {
    if (this.reannounceTimer !== undefined || !this.started) return
    this.reannounceTimer = setTimeout(() => {
      this.reannounceTimer = undefined
      this.modules.pool.content().then(
        (content) => {
          if (!this.started) return
          const senders = [...content.pending.values()]
          const picked: TypedTransaction[] = []
          for (let i = 0; i < perSender && picked.length < MAX_UNSENT_ANNOUNCEMENTS; i++) {
            let more = false
            for (const list of senders) {
              const tx = list[i]
              if (tx === undefined) continue
              more = true
              if (tx.type !== 3 && picked.length < MAX_UNSENT_ANNOUNCEMENTS) picked.push(tx)
            }
            if (!more) break
          }
          if (picked.length === 0) return
          for (const tx of picked)
            this.announceQueue.push({ type: tx.type, size: encodedTx(tx).length, hash: tx.hash() })
          this.announceTimer ??= setTimeout(() => void this.flushAnnouncements(), 0)
          this.modules.logger.debug({ txs: picked.length, perSender }, 'p2p: pool announced again')
        },
        (err: unknown) => this.modules.logger.warn({ err }, 'p2p: the pool could not be announced again'),
      )
    }, delayMs)
    this.reannounceTimer.unref()
  }

  /** Publishes a transaction announcement (the network announces what the pool admits by itself). */
  publishTxAnnouncement(txs: TxAnnouncement[]): Promise<void> {
    return this.gossip.publish(encodeTxAnnouncement(txs, announcementNonce()), this.gossip.topics.txs)
  }

  /** Peers subscribed to a topic, as gossipsub knows them. */
  gossipSubscribers(topic: string): string[] {
    return this.host.services.pubsub.getSubscribers(topic).map((p) => p.toString())
  }

  /** The consensus topic, for the consensus engine. */
  get consensus(): ConsensusGossip {
    return this.gossip
  }

  // ---- status

  /** This node's status now. */
  localStatus(): Status {
    const { chain } = this.modules
    const head = chain.head.header
    return {
      chainId: chain.genesis.chainId,
      genesisHash: chain.genesisBlock.hash(),
      forkId: forkId(this.points, head),
      headHash: chain.head.hash(),
      headNumber: head.number,
      finalizedHash: this.finalized.hash,
      finalizedNumber: this.finalized.number,
    }
  }

  private finalized: { hash: Uint8Array; number: bigint } = { hash: new Uint8Array(32), number: 0n }

  private async refreshFinalized(): Promise<void> {
    const f = await this.modules.chain.checkpoint('finalized')
    this.finalized = { hash: f.hash(), number: f.header.number }
  }

  /** Peers refused while answering their status: hung up once the answer is written. */
  private readonly hangUpAfterAnswer = new Set<string>()

  /**
   * Checks a peer's status: same chain → remembered (and sync triggered); another chain →
   * disconnected, at once when this node asked (`answering` false), or once the answer is written
   * when it is answering the peer's request — a hang-up racing the answer could close the
   * connection before the peer reads why, and the peer would not refuse this node in turn.
   */
  private async acceptStatus(peer: PeerId, remote: Status, answering = false): Promise<boolean> {
    const { logger, metrics, chain } = this.modules
    const local = this.localStatus()
    const mismatch = statusMismatch(local, this.points, chain.head.header, remote)
    if (mismatch) {
      logger.info(
        { peer: peer.toString(), reason: mismatch.reason, why: mismatch.message },
        'peer of another chain refused',
      )
      metrics?.refusedAtStatus.inc({ reason: mismatch.reason })
      metrics?.disconnects.inc({ reason: `wrong_${mismatch.reason}` })
      this.bans.ban(peer.toString(), 600, `another chain: ${mismatch.message}`)
      if (answering) this.hangUpAfterAnswer.add(peer.toString())
      else this.dropPeer(peer)
      return false
    }
    this.peerStates.set(peer.toString(), { id: peer, status: remote, at: (this.modules.now ?? Date.now)() })
    this.redialer.established(peer.toString())
    logger.debug({ peer: peer.toString(), head: remote.headNumber.toString() }, 'peer status accepted')
    if (remote.headNumber > chain.head.header.number) this.sync.trigger()
    return true
  }

  /** Forgets a peer of another chain (not kept connected any more) and hangs up. */
  private dropPeer(peer: PeerId): void {
    this.redialer.forget(peer.toString())
    void this.host.peerStore
      .merge(peer, { tags: { [KEPT_TAG]: undefined } })
      .catch(() => {})
      .then(() => this.host.hangUp(peer))
      .catch(() => {})
  }

  /**
   * Asks a peer for its status (this node dialled it). A failed exchange (a timeout while either
   * node is starting, a stream reset) is tried again after 1, 2 and 4 s while the peer is still
   * connected and unknown, instead of waiting for the next status refresh (30 s): until then this
   * node would not sync from it.
   */
  private async exchangeStatus(peer: PeerId, attempt = 0): Promise<void> {
    try {
      await this.refreshFinalized()
      const [answer] = await this.reqresp.request(peer, Protocol.STATUS, encodeStatus(this.localStatus()))
      if (!answer) throw new CairnError(P2pErrorCode.DECODE, 'empty status', { fault: 'peer' })
      await this.acceptStatus(peer, decodeStatus(answer))
    } catch (err) {
      this.modules.logger.debug({ peer: peer.toString(), err, attempt }, 'status exchange failed')
      if (err instanceof CairnError && err.fault === 'peer') {
        this.penalize(peer.toString(), 'low', 'bad_status')
        return
      }
      if (attempt < STATUS_RETRIES && this.started) {
        const retry = setTimeout(
          () => {
            const connected = this.host.getConnections(peer).length > 0
            if (this.started && connected && !this.peerStates.has(peer.toString())) {
              void this.exchangeStatus(peer, attempt + 1)
            }
          },
          1000 * 2 ** attempt,
        )
        retry.unref()
      }
    }
  }

  private async registerProtocols(): Promise<void> {
    const { chain } = this.modules
    const maxBlock = this.opts.maxBlockBytes
    const maxResponseBytes = this.opts.maxResponseBytes ?? MAX_RESPONSE_BYTES
    await this.reqresp.register(Protocol.STATUS, {
      cost: () => 1,
      maxChunks: 1,
      maxChunkBytes: 1024,
      handle: async (peer, request) => {
        await this.refreshFinalized()
        // Answered even when refused, so that the dialler learns why and refuses too; the hang-up
        // waits for the answer (`served`).
        await this.acceptStatus(peerIdOf(peer), decodeStatus(request), true)
        return [encodeStatus(this.localStatus())]
      },
      served: (peer) => {
        if (this.hangUpAfterAnswer.delete(peer)) this.dropPeer(peerIdOf(peer))
      },
    })
    await this.reqresp.register(Protocol.BLOCKS_BY_RANGE, {
      cost: (request) => Math.max(1, decodeRange(request).count),
      maxChunks: MAX_REQUEST_BLOCKS,
      maxChunkBytes: maxBlock,
      maxResponseBytes,
      handle: async (_peer, request) => {
        const { start, count } = decodeRange(request)
        if (count > MAX_REQUEST_BLOCKS) {
          throw new CairnError(P2pErrorCode.TOO_LARGE, `more than ${MAX_REQUEST_BLOCKS} blocks`, { fault: 'peer' })
        }
        const out: Uint8Array[] = []
        let bytes = 0
        const head = chain.head.header.number
        for (let n = start; n < start + BigInt(count) && n <= head && bytes < maxResponseBytes; n++) {
          const block = await chain.getBlockBytesByNumber(n)
          if (!block) break
          out.push(block)
          bytes += block.length
        }
        return out
      },
    })
    await this.reqresp.register(Protocol.BLOCKS_BY_HASH, {
      cost: (request) => Math.max(1, decodeHashes(request, MAX_REQUEST_BLOCKS).length),
      maxChunks: MAX_REQUEST_BLOCKS,
      maxChunkBytes: maxBlock,
      maxResponseBytes,
      handle: async (_peer, request) => {
        const out: Uint8Array[] = []
        let bytes = 0
        for (const hash of decodeHashes(request, MAX_REQUEST_BLOCKS)) {
          if (bytes >= maxResponseBytes) break
          const block = await chain.getBlockBytes(hash)
          if (!block) continue
          out.push(block)
          bytes += block.length
        }
        return out
      },
    })
    await this.reqresp.register(Protocol.POOLED_TRANSACTIONS_BY_HASH, {
      cost: (request) => Math.max(1, decodeHashes(request, MAX_TX_REQUEST).length),
      maxChunks: MAX_TX_REQUEST,
      maxChunkBytes: MAX_TX_BYTES,
      handle: async (_peer, request) => {
        const out: Uint8Array[] = []
        for (const hash of decodeHashes(request, MAX_TX_REQUEST)) {
          const tx = this.modules.pool.get(hash)
          if (tx && tx.type !== 3) out.push(encodedTx(tx))
        }
        return out
      },
    })
  }

  /** pooled_transactions_by_hash: the bodies the peer's pool still holds. */
  pooledTransactions(peer: string, hashes: Uint8Array[]): Promise<Uint8Array[]> {
    return this.reqresp.request(peerIdOf(peer), Protocol.POOLED_TRANSACTIONS_BY_HASH, encodeHashes(hashes))
  }

  blocksByRange(peer: string, start: bigint, count: number): Promise<Uint8Array[]> {
    return this.reqresp.request(peerIdOf(peer), Protocol.BLOCKS_BY_RANGE, encodeRange({ start, count }))
  }

  blocksByHash(peer: string, hashes: Uint8Array[]): Promise<Uint8Array[]> {
    return this.reqresp.request(peerIdOf(peer), Protocol.BLOCKS_BY_HASH, encodeHashes(hashes))
  }

  /**
   * A gossiped block's parent is unknown: ask the peer for the missing ancestors by hash, a few
   * deep, importing each through `processBlock({source: 'sync'})` (the orphan pool then adopts the
   * block). Further behind, range sync takes over (the peer's head is at least this block's).
   */
  private async lookupParent(peer: string, block: Block): Promise<void> {
    const { chain, logger } = this.modules
    const state = this.peerStates.get(peer)
    if (state && block.header.number > state.status.headNumber) state.status.headNumber = block.header.number
    if (block.header.number > chain.head.header.number + BigInt(MAX_LOOKUP_DEPTH)) {
      this.sync.trigger()
      return
    }
    let want = block.header.parentHash
    for (let depth = 0; depth < MAX_LOOKUP_DEPTH; depth++) {
      const key = bytesToHex(want)
      if (this.lookups.has(key)) return
      this.lookups.add(key)
      try {
        const [bytes] = await this.blocksByHash(peer, [want])
        if (!bytes) return
        const r = await chain.processBlock(bytes, { source: 'sync', peer })
        if (r.status === 'error') {
          if (r.error.penalize) this.penalize(peer, blockPenalty(r.error), `lookup_${r.error.code}`)
          return
        }
        if (r.status !== 'unknownParent') return
        want = r.parentHash
      } catch (err) {
        logger.debug({ peer, err }, 'parent lookup failed')
        return
      } finally {
        this.lookups.delete(key)
      }
    }
  }

  // ---- scoring

  /** Applies an action to a peer, and disconnects or bans it when its score says so. */
  penalize(peer: string, action: PeerAction, reason: string): void {
    this.modules.metrics?.peerActions.inc({ action, reason })
    if (this.opts.allow.includes(peer)) return
    this.modules.logger.debug({ peer, action, reason }, 'peer penalised')
    this.act(peer, this.scores.apply(peer, action), reason)
  }

  private act(peer: string, state: ScoreState, reason: string): void {
    if (state === 'healthy' || this.opts.allow.includes(peer) || !this.started) return
    const { logger, metrics } = this.modules
    if (state === 'ban') {
      if (this.bans.isBanned(peer)) return
      this.bans.ban(peer, this.opts.banSeconds, reason)
      metrics?.bans.inc({ reason })
      logger.warn({ peer, reason, seconds: this.opts.banSeconds }, 'peer banned')
    } else {
      metrics?.disconnects.inc({ reason })
      logger.info({ peer, reason }, 'peer disconnected: low score')
    }
    void this.host.hangUp(peerIdOf(peer)).catch(() => {})
  }

  /**
   * A peer subscribed to the blocks topic: from about now its gossiped heads reach us, and what it
   * sealed before came in its status, except a head sealed between the two (published before it
   * knew of our subscription). One more status exchange a moment later closes that gap.
   */
  private subscribed({ peerId, subscriptions }: SubscriptionChangeData): void {
    if (subscriptions.some((s) => s.subscribe && s.topic === this.gossip.topics.txs))
      this.reannouncePool(Number.POSITIVE_INFINITY, REANNOUNCE_DELAY_MS)
    if (!subscriptions.some((s) => s.subscribe && s.topic === this.gossip.topics.blocks)) return
    const timer = setTimeout(() => {
      this.statusTimers.delete(timer)
      const state = this.peerStates.get(peerId.toString())
      if (!this.started || !state) return
      state.at = (this.modules.now ?? Date.now)()
      void this.exchangeStatus(peerId)
    }, this.opts.subscribedStatusDelayMs ?? 1000)
    timer.unref()
    this.statusTimers.add(timer)
  }

  /** Exchanges status again with the peers last heard from more than `statusIntervalSeconds` ago. */
  private refreshStatuses(): void {
    const now = (this.modules.now ?? Date.now)()
    for (const p of this.peerStates.values()) {
      if (now - p.at < this.opts.statusIntervalSeconds * 1000) continue
      p.at = now // one refresh in flight at a time
      void this.exchangeStatus(p.id)
    }
  }

  private scoreHeartbeat(): void {
    this.refreshStatuses()
    // A transaction still pending a heartbeat later may never have reached the producer (an
    // announcement lost to a one-way loss, with no reconnect to trigger the join re-announcement):
    // the pending ones are announced again, each sender's lowest nonces first (a sender's gap may
    // be several transactions long); peers that have them fetch nothing.
    this.reannouncePool(Number.POSITIVE_INFINITY, 0)
    const pubsub = this.host.services.pubsub as unknown as { getScore?: (id: string) => number }
    for (const peer of this.host.getPeers()) {
      const id = peer.toString()
      const state = this.scores.setGossipScore(id, pubsub.getScore?.(id) ?? 0)
      this.modules.metrics?.peerScore.observe(this.scores.score(id))
      this.act(id, state, 'gossip_score')
    }
  }

  private updatePeerGauge(): void {
    const metrics = this.modules.metrics
    if (!metrics) return
    let inbound = 0
    let outbound = 0
    const seen = new Set<string>()
    for (const c of this.host.getConnections()) {
      const id = c.remotePeer.toString()
      if (seen.has(id)) continue
      seen.add(id)
      if (c.direction === 'inbound') inbound++
      else outbound++
    }
    metrics.peers.set({ direction: 'inbound' }, inbound)
    metrics.peers.set({ direction: 'outbound' }, outbound)
  }

  // ---- known peers (the persisted part of the peer store)

  private knownPeers(): string[] {
    if (!this.opts.dir) return []
    try {
      const list = JSON.parse(readFileSync(join(this.opts.dir, 'peers.json'), 'utf8')) as unknown
      return Array.isArray(list) ? list.filter((a): a is string => typeof a === 'string').slice(0, 64) : []
    } catch {
      return []
    }
  }

  private saveKnownPeers(): void {
    if (!this.opts.dir) return
    const addrs = new Set<string>()
    for (const c of this.host.getConnections()) {
      if (c.direction === 'outbound')
        addrs.add(`${c.remoteAddr.toString()}/p2p/${c.remotePeer.toString()}`.replace(/\/p2p\/[^/]+\/p2p\//, '/p2p/'))
    }
    try {
      writeFileSync(join(this.opts.dir, 'peers.json'), JSON.stringify([...addrs]), { mode: 0o600 })
    } catch (err) {
      this.modules.logger.warn({ err }, 'cannot save known peers')
    }
  }

  // ---- what the RPC reads (rpc's RpcNetwork)

  peerCount(): number {
    return this.peerStates.size
  }

  listening(): boolean {
    return this.started
  }

  syncing(): SyncProgress | false {
    const p = this.sync.progress()
    if (!p) return false
    return {
      startingBlock: p.startingBlock,
      currentBlock: this.modules.chain.head.header.number,
      highestBlock: p.highestBlock,
    }
  }

  private listenAddrs(): string[] {
    return this.host.getMultiaddrs().map((a) => a.toString())
  }

  nodeInfo(): { id: string; listenAddrs: string[] } {
    return { id: this.peerId, listenAddrs: this.listenAddrs() }
  }

  peers(): { id: string; remoteAddress: string; inbound: boolean }[] {
    const out = new Map<string, { id: string; remoteAddress: string; inbound: boolean }>()
    for (const c of this.host.getConnections()) {
      const id = c.remotePeer.toString()
      if (!out.has(id)) out.set(id, { id, remoteAddress: c.remoteAddr.toString(), inbound: c.direction === 'inbound' })
    }
    return [...out.values()]
  }

  /**
   * Dials a multiaddr with a peer id (`/ip4/…/tcp/…/p2p/<id>`) and keeps it connected (dialled
   * again after a loss or a failed dial, with backoff: `redial.ts`). True once connected; false
   * when this first dial failed (later ones are scheduled) or the address names no peer.
   */
  async addPeer(address: string, o: { giveUpAfter?: number } = {}): Promise<boolean> {
    try {
      const ma = multiaddr(address)
      const id = ma.getComponents().find((c) => c.name === 'p2p')?.value
      if (!id) return false
      const peer = peerIdOf(id)
      if (peer.equals(this.host.peerId)) return false
      await this.host.peerStore.merge(peer, { multiaddrs: [ma], tags: { [KEPT_TAG]: { value: 100 } } })
      return await this.redialer.keep(id, address, o)
    } catch (err) {
      this.modules.logger.debug({ address, err }, 'dial failed')
      return false
    }
  }

  /** Disconnects a peer given by peer id or a multiaddr ending in one. */
  async removePeer(address: string): Promise<boolean> {
    try {
      const id = address.startsWith('/')
        ? multiaddr(address)
            .getComponents()
            .find((c) => c.name === 'p2p')?.value
        : address
      if (!id) return false
      const peer = peerIdOf(id)
      this.redialer.forget(id)
      if (this.host.getConnections(peer).length === 0) return false
      await this.host.peerStore.merge(peer, { tags: { [KEPT_TAG]: undefined } })
      await this.host.hangUp(peer)
      return true
    } catch {
      return false
    }
  }
}

function hostOf(ma: Multiaddr): string | undefined {
  return ma.getComponents().find((c) => c.name === 'ip4' || c.name === 'ip6')?.value
}

/** A fresh nonce for a transaction announcement (each announcement a gossip message of its own). */
function announcementNonce(): Uint8Array {
  return randomBytes(ANNOUNCEMENT_NONCE_BYTES)
}
