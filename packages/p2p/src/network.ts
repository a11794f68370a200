// The P2P node: the libp2p host, the status exchange that refuses other chains, gossip, range sync
// and parent lookup, peer scores and kept peers, and the RPC's view of it, wired in one place. The
// parts it wires live in files of their own: who may connect (connection-gate.ts), what it serves
// (served-protocols.ts), transaction announcements (tx-announcer.ts), known peers (known-peers.ts).

import { join } from 'node:path'
import type { ForkPoints } from '@cairn/chain'
import { encodeBlock, forkId, forkPointsOf } from '@cairn/chain'
import { bytesToHex, CairnError } from '@cairn/utils'
import type { Block } from '@ethereumjs/block'
import type { TypedTransaction } from '@ethereumjs/tx'
import type { SubscriptionChangeData } from '@libp2p/gossipsub'
import type { PeerId } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { BanList } from './bans.ts'
import {
  decodeStatus,
  encodeHashes,
  encodeRange,
  encodeStatus,
  encodeTxAnnouncement,
  type Status,
  type TxAnnouncement,
} from './codec.ts'
import { connectionGate } from './connection-gate.ts'
import { DagRelay } from './dag-relay.ts'
import { P2pErrorCode } from './errors.ts'
import { type ConsensusGossip, Gossip, topicsOf } from './gossip.ts'
import { GOSSIP_THRESHOLDS, gossipScoreParams } from './gossip-score.ts'
import { createHost, type Host } from './host.ts'
import { nodeIdentityKey } from './identity.ts'
import { readKnownPeers, saveKnownPeers } from './known-peers.ts'
import { MAX_RESPONSE_BYTES, type P2pModules, type P2pOptions, type SyncProgress } from './network-options.ts'
import { ParentLookup } from './parent-lookup.ts'
import { setPeerGauge } from './peer-gauge.ts'
import { peerIdOf } from './peer-ids.ts'
import { Redialer } from './redial.ts'
import { Protocol, ReqResp } from './reqresp.ts'
import { type PeerAction, PeerScores, type ScoreState } from './scoring.ts'
import { registerServedProtocols } from './served-protocols.ts'
import { statusMismatch } from './status.ts'
import { RangeSync } from './sync.ts'
import { announcementNonce, TxAnnouncer } from './tx-announcer.ts'
import { TxFetcher } from './tx-fetch.ts'

/** A connected peer that passed the status exchange. */
interface PeerState {
  id: PeerId
  status: Status
  /** When the status was last exchanged (ms). */
  at: number
}

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
  private readonly parents: ParentLookup
  private readonly dagRelay: DagRelay
  private started = false
  private fetcher!: TxFetcher
  private readonly redialer: Redialer
  private readonly announcer: TxAnnouncer
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
          [...this.peerStates.values()].map((p) => ({
            id: p.id.toString(),
            headNumber: p.status.headNumber,
            ...(p.status.headWork !== undefined ? { headWork: p.status.headWork } : {}),
          })),
        ...(modules.headWork ? { localWork: modules.headWork } : {}),
        fetchRange: (peer, start, count) => this.blocksByRange(peer, start, count),
        fetchMissing: (peer, block, missing) => this.dagRelay.fetch(peer, block, missing),
        penalize: (peer, action, reason) => this.penalize(peer, action, reason),
      },
    )
    this.parents = new ParentLookup({
      chain: modules.chain,
      logger: modules.logger,
      blocksByHash: (peer, hashes) => this.blocksByHash(peer, hashes),
      penalize: (peer, action, reason) => this.penalize(peer, action, reason),
      triggerSync: () => this.sync.trigger(),
    })
    this.dagRelay = new DagRelay({
      chain: modules.chain,
      logger: modules.logger,
      blocksByHash: (peer, hashes) => this.blocksByHash(peer, hashes),
    })
    this.announcer = new TxAnnouncer(
      { delayMs: opts.txAnnounceMs ?? 10 },
      {
        pool: modules.pool,
        publish: (bytes) => this.gossip.publishTo(bytes, this.gossip.topics.txs, { requirePeers: true }),
        running: () => this.started,
        logger: modules.logger,
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
      gater: connectionGate(opts, {
        bans: this.bans,
        scores: this.scores,
        logger,
        metrics: modules.metrics,
        ...(modules.now ? { now: modules.now } : {}),
      }),
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
      connected: (peer) => this.host.getConnections(peerIdOf(peer)).length > 0,
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
      onMissingParents: (peer, block, missing) => void this.dagRelay.fetch(peer, block, missing),
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
      if (opts.announceHeads !== false && (modules.announces?.(block) ?? true) && !this.sync.active) {
        void this.gossip.publish(encodeBlock(block), this.gossip.topics.blocks)
      }
    }
    chain.events.on('newHead', onHead)
    this.unsubscribe.push(() => chain.events.off('newHead', onHead))
    // eth/68: what the pool admits (RPC or fetched) is announced by hash, type and size, in batches.
    const onTx = (tx: TypedTransaction) => {
      if (tx.type === 3) return
      this.fetcher.admitted(tx.hash())
      this.announcer.admitted(tx)
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
    for (const addr of readKnownPeers(opts.dir)) void this.addPeer(addr, { giveUpAfter: KNOWN_PEER_TRIES })
  }

  async stop(): Promise<void> {
    if (!this.started) return
    this.started = false
    clearInterval(this.heartbeat)
    this.announcer.stop()
    for (const t of this.statusTimers) clearTimeout(t)
    this.statusTimers.clear()
    this.redialer.stop()
    this.sync.stop()
    this.fetcher.stop()
    for (const off of this.unsubscribe) off()
    saveKnownPeers(this.opts.dir, this.host.getConnections(), this.modules.logger)
    this.gossip.stop()
    await this.host.stop()
    await this.sync.settled()
    await this.fetcher.settled()
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
      ...this.headWorkField(),
    }
  }

  /** The status's head work, when the engine compares total work (proof of work). */
  private headWorkField(): { headWork?: bigint } {
    const work = this.modules.headWork?.()
    return work === undefined ? {} : { headWork: work }
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
    const heavier = remote.headWork !== undefined && local.headWork !== undefined && remote.headWork > local.headWork
    if (remote.headNumber > chain.head.header.number || heavier) this.sync.trigger()
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
    await registerServedProtocols(
      this.reqresp,
      { maxBlockBytes: this.opts.maxBlockBytes, maxResponseBytes: this.opts.maxResponseBytes ?? MAX_RESPONSE_BYTES },
      { chain: this.modules.chain, pool: this.modules.pool },
    )
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

  /** A gossiped block's parent is unknown: the peer's head is at least the block's; its ancestors are looked up. */
  private lookupParent(peer: string, block: Block): Promise<void> {
    const state = this.peerStates.get(peer)
    if (state && block.header.number > state.status.headNumber) state.status.headNumber = block.header.number
    return this.parents.lookup(peer, block)
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
      this.announcer.reannouncePool(Number.POSITIVE_INFINITY, REANNOUNCE_DELAY_MS)
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
    this.announcer.reannouncePool(Number.POSITIVE_INFINITY, 0)
    const pubsub = this.host.services.pubsub as unknown as { getScore?: (id: string) => number }
    for (const peer of this.host.getPeers()) {
      const id = peer.toString()
      const state = this.scores.setGossipScore(id, pubsub.getScore?.(id) ?? 0)
      this.modules.metrics?.peerScore.observe(this.scores.score(id))
      this.act(id, state, 'gossip_score')
    }
  }

  private updatePeerGauge(): void {
    if (this.modules.metrics) setPeerGauge(this.modules.metrics, this.host.getConnections())
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
