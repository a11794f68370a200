import type { GossipChain, ProcessResult } from '@cairn/chain'
import type { Logger } from '@cairn/utils'
import { type GossipSub, TopicValidatorResult } from '@libp2p/gossipsub'
import type { PeerId } from '@libp2p/interface'
import { decodeTxAnnouncement, snappy, type TxAnnouncement, unsnappy } from './codec.ts'
import { missingParentsOf } from './dag-relay.ts'
import type { P2pMetrics } from './metrics.ts'
import { blockPenalty } from './penalty.ts'
import { PeerAction } from './scoring.ts'

/** What a validator decides about a gossip message: forward it, drop it, or drop it and blame the sender. */
export type Verdict = 'accept' | 'ignore' | 'reject'

/**
 * The consensus topic, for the consensus engine (the BFT engine's votes and proposals): publish
 * bytes, and judge what arrives (the verdict decides whether gossipsub forwards it and whether
 * the sender is penalised). Without a handler every message is ignored.
 */
export interface ConsensusGossip {
  publish(data: Uint8Array): Promise<void>
  setHandler(handler: ((data: Uint8Array, from: string) => Promise<Verdict>) | null): void
}

export interface GossipTopics {
  blocks: string
  txs: string
  consensus: string
}

/**
 * Topic names of a chain: its id and genesis hash make them disjoint from other chains'. The
 * version ends each name: `txs/2` since announcements may carry bodies (a fifth item, which a
 * `txs/1` node would refuse as undecodable and penalise its sender for); nodes of the two versions
 * do not share transactions, and do not punish each other.
 */
export function topicsOf(chainId: bigint, genesisHash: string): GossipTopics {
  const base = `/cairn/${chainId}/${genesisHash.slice(2, 10)}`
  return { blocks: `${base}/blocks/1`, txs: `${base}/txs/2`, consensus: `${base}/consensus/1` }
}

const VERDICT: Record<Verdict, TopicValidatorResult> = {
  accept: TopicValidatorResult.Accept,
  ignore: TopicValidatorResult.Ignore,
  reject: TopicValidatorResult.Reject,
}

export interface GossipModules {
  pubsub: GossipSub
  chain: GossipChain
  logger: Logger
  metrics: P2pMetrics | null
  penalize: (peer: string, action: PeerAction, reason: string) => void
  /** A gossiped block whose parent is unknown: look the parent up from the peer. */
  onUnknownParent: (peer: PeerId, result: Extract<ProcessResult, { status: 'unknownParent' }>) => void
  /** A block a DAG engine refused for parents it does not have yet (`meta.missingParents`): fetch them. */
  onMissingParents?: (peer: string, block: Uint8Array, missing: string[]) => void
  /** A well-formed transaction announcement: fetch the unknown bodies from its sender. */
  onTxAnnouncement: (peer: string, txs: TxAnnouncement[]) => void
  maxBlockBytes: number
}

/**
 * Gossip on the chain's three topics. A block is checked cheaply first (`preValidate`: decoding,
 * known/bad, the header against its parent, the seal) and then imported through
 * `processBlock({source: 'gossip'})`: it is forwarded only once imported (`accept`); a known
 * block or one waiting for its parent is `ignore`d; an invalid one is `reject`ed and its sender
 * penalised. The transactions topic carries eth/68 announcements (hash, type, size, and the
 * bodies of the announcer's own small transactions): a well-formed one is handed to the fetcher
 * and `ignore`d (not forwarded: each node announces what
 * its own pool admits); an undecodable one is rejected. Payloads are snappy-compressed.
 */
export class Gossip implements ConsensusGossip {
  readonly topics: GossipTopics
  private consensusHandler: ((data: Uint8Array, from: string) => Promise<Verdict>) | null = null

  constructor(
    topics: GossipTopics,
    private readonly modules: GossipModules,
  ) {
    this.topics = topics
  }

  start(): void {
    const { pubsub } = this.modules
    pubsub.topicValidators.set(this.topics.blocks, (peer, msg) =>
      this.judge(this.topics.blocks, peer, msg.data, this.validateBlock),
    )
    pubsub.topicValidators.set(this.topics.txs, (peer, msg) =>
      this.judge(this.topics.txs, peer, msg.data, this.validateTx),
    )
    pubsub.topicValidators.set(this.topics.consensus, (peer, msg) =>
      this.judge(this.topics.consensus, peer, msg.data, this.validateConsensus),
    )
    for (const t of Object.values(this.topics)) pubsub.subscribe(t)
  }

  stop(): void {
    const { pubsub } = this.modules
    for (const t of Object.values(this.topics)) {
      pubsub.topicValidators.delete(t)
      pubsub.unsubscribe(t)
    }
  }

  private async judge(
    topic: string,
    peer: PeerId,
    data: Uint8Array,
    validate: (peer: PeerId, payload: Uint8Array) => Promise<Verdict>,
  ): Promise<TopicValidatorResult> {
    const { metrics } = this.modules
    metrics?.messages.inc({ topic, direction: 'in' })
    metrics?.bytes.inc({ topic, direction: 'in' }, data.length)
    let verdict: Verdict
    try {
      verdict = await validate(peer, unsnappy(data, this.modules.maxBlockBytes))
    } catch (err) {
      this.modules.logger.debug({ peer: peer.toString(), topic, err }, 'undecodable gossip')
      this.modules.penalize(peer.toString(), PeerAction.LowToleranceError, 'gossip_decode')
      verdict = 'reject'
    }
    metrics?.gossipValidation.inc({ topic, result: verdict })
    return VERDICT[verdict]
  }

  private readonly validateBlock = async (peer: PeerId, bytes: Uint8Array): Promise<Verdict> => {
    const { chain, penalize } = this.modules
    const from = peer.toString()
    const pre = await chain.preValidate(bytes, 'gossip')
    if (pre.status === 'known' || pre.status === 'future') return 'ignore'
    if (pre.status === 'error') {
      const missing = missingParentsOf(pre.error)
      if (missing && this.modules.onMissingParents) {
        this.modules.onMissingParents(from, bytes, missing)
        return 'ignore'
      }
      if (pre.error.penalize) penalize(from, blockPenalty(pre.error), pre.error.code)
      return pre.error.action
    }
    // Checked once: the import does not run `preValidate` again (only the bad-block cache).
    const result = await chain.processBlock(pre.block, { source: 'gossip', peer: from, preValidated: true })
    switch (result.status) {
      case 'imported':
        return 'accept'
      case 'unknownParent':
        this.modules.onUnknownParent(peer, result)
        return 'ignore'
      case 'error': {
        const missing = missingParentsOf(result.error)
        if (missing && this.modules.onMissingParents) {
          this.modules.onMissingParents(from, bytes, missing)
          return 'ignore'
        }
        if (result.error.penalize) penalize(from, blockPenalty(result.error), result.error.code)
        return result.error.action
      }
      default:
        return 'ignore'
    }
  }

  private readonly validateTx = async (peer: PeerId, bytes: Uint8Array): Promise<Verdict> => {
    const txs = decodeTxAnnouncement(bytes)
    if (txs.length === 0) return 'ignore'
    this.modules.onTxAnnouncement(peer.toString(), txs)
    return 'ignore'
  }

  private readonly validateConsensus = async (peer: PeerId, bytes: Uint8Array): Promise<Verdict> => {
    const handler = this.consensusHandler
    if (!handler) return 'ignore'
    const verdict = await handler(bytes, peer.toString())
    if (verdict === 'reject') this.modules.penalize(peer.toString(), PeerAction.LowToleranceError, 'bad_consensus')
    return verdict
  }

  /** Publishes a payload (compressed here) on a topic. */
  async publish(data: Uint8Array, topic = this.topics.consensus): Promise<void> {
    await this.publishTo(data, topic)
  }

  /**
   * Publishes and says to how many peers it went. With `requirePeers`, a message no subscribed
   * peer would receive is not published at all (0), so it can be published again later: gossipsub
   * remembers every published message id, and identical bytes published again are dropped.
   */
  async publishTo(data: Uint8Array, topic: string, opts: { requirePeers?: boolean } = {}): Promise<number> {
    const { pubsub, metrics, logger } = this.modules
    const out = snappy(data)
    // The implementation takes per-call options (`PublishOpts`) that the GossipSub interface omits.
    const publish = pubsub.publish.bind(pubsub) as (
      topic: string,
      data: Uint8Array,
      o?: { allowPublishToZeroTopicPeers?: boolean },
    ) => Promise<{ recipients: unknown[] }>
    try {
      const { recipients } = await publish(
        topic,
        out,
        opts.requirePeers ? { allowPublishToZeroTopicPeers: false } : undefined,
      )
      metrics?.messages.inc({ topic, direction: 'out' })
      metrics?.bytes.inc({ topic, direction: 'out' }, out.length)
      return recipients.length
    } catch (err) {
      logger.debug({ topic, err }, 'gossip publish failed')
      return 0
    }
  }

  setHandler(handler: ((data: Uint8Array, from: string) => Promise<Verdict>) | null): void {
    this.consensusHandler = handler
  }
}
