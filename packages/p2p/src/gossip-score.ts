import {
  createPeerScoreParams,
  createTopicScoreParams,
  type PeerScoreParams,
  type PeerScoreThresholds,
  type TopicScoreParams,
} from '@libp2p/gossipsub/score'
import type { GossipTopics } from './gossip.ts'

/**
 * Gossipsub peer scoring for the chain's three topics, in the shape of Lodestar's
 * `computeGossipPeerScoreParams`: each topic's positive score is time in the mesh (P1, at most
 * {@link MAX_IN_MESH_SCORE}) plus first deliveries (P2, at most {@link MAX_FIRST_DELIVERIES_SCORE}),
 * scaled by the topic's weight; the positive total is capped at half its maximum; one invalid
 * message (P4, squared, decaying over an hour) costs the whole maximum positive score, so a few
 * of them take a peer below gossipsub's thresholds. Mesh-delivery deficits (P3, P3b) are off, as
 * in Lodestar: block times vary (a dev chain seals on demand) and transaction announcements are
 * never forwarded (their verdict is `ignore`), so a quiet mesh peer is not a faulty one.
 */

/** Counters decay every second; a counter below this is zero. */
export const DECAY_INTERVAL_MS = 1000
export const DECAY_TO_ZERO = 0.01
export const MAX_IN_MESH_SCORE = 10
export const MAX_FIRST_DELIVERIES_SCORE = 40
/** Topic weights: blocks and consensus messages matter; transaction announcements much less. */
export const TOPIC_WEIGHT = { blocks: 0.5, txs: 0.05, consensus: 0.5 } as const
/** Messages expected per second on each topic (for the first-deliveries cap). */
const EXPECTED_RATE = { blocks: 1, txs: 10, consensus: 4 } as const
/** Gossipsub's thresholds (Lodestar's). */
export const GOSSIP_THRESHOLDS: PeerScoreThresholds = {
  gossipThreshold: -4000,
  publishThreshold: -8000,
  graylistThreshold: -16000,
  acceptPXThreshold: 100,
  opportunisticGraftThreshold: 5,
}

/** The per-interval factor that takes a counter to {@link DECAY_TO_ZERO} in `seconds`. */
export function scoreDecay(seconds: number): number {
  return DECAY_TO_ZERO ** (DECAY_INTERVAL_MS / 1000 / seconds)
}

/** Where a counter incremented by `rate` per interval settles under `decay`. */
function convergence(decay: number, rate: number): number {
  return rate / (1 - decay)
}

export const MAX_POSITIVE_SCORE =
  (MAX_IN_MESH_SCORE + MAX_FIRST_DELIVERIES_SCORE) * (TOPIC_WEIGHT.blocks + TOPIC_WEIGHT.txs + TOPIC_WEIGHT.consensus)

function topicParams(weight: number, expectedPerSecond: number, firstDeliveries: boolean): TopicScoreParams {
  const timeInMeshCap = 3600 // one hour of seconds
  const firstDecay = scoreDecay(20 * 60)
  // A mesh of D = 8: each peer is first for about one message in eight; twice that is the cap.
  const firstCap = convergence(firstDecay, (2 * expectedPerSecond) / 8)
  return createTopicScoreParams({
    topicWeight: weight,
    timeInMeshWeight: MAX_IN_MESH_SCORE / timeInMeshCap,
    timeInMeshQuantum: 1000,
    timeInMeshCap,
    firstMessageDeliveriesWeight: firstDeliveries ? MAX_FIRST_DELIVERIES_SCORE / firstCap : 0,
    firstMessageDeliveriesDecay: firstDecay,
    firstMessageDeliveriesCap: firstCap,
    meshMessageDeliveriesWeight: 0,
    meshMessageDeliveriesDecay: scoreDecay(60),
    meshMessageDeliveriesCap: 1,
    meshMessageDeliveriesThreshold: 0,
    meshMessageDeliveriesWindow: 10,
    meshMessageDeliveriesActivation: 60_000,
    meshFailurePenaltyWeight: 0,
    meshFailurePenaltyDecay: scoreDecay(60),
    invalidMessageDeliveriesWeight: -MAX_POSITIVE_SCORE / weight,
    invalidMessageDeliveriesDecay: scoreDecay(3600),
  })
}

/** The peer score parameters of a chain's topics; `ipColocationThreshold` matches the gater's peers per IP. */
export function gossipScoreParams(topics: GossipTopics, o: { ipColocationThreshold: number }): PeerScoreParams {
  const behaviourDecay = scoreDecay(10 * 60)
  // Lodestar: ten behaviour penalties beyond the threshold, at convergence, reach the gossip threshold.
  const behaviourTarget = convergence(behaviourDecay, 10) - 6
  return createPeerScoreParams({
    topics: {
      [topics.blocks]: topicParams(TOPIC_WEIGHT.blocks, EXPECTED_RATE.blocks, true),
      // Announcements are ignored (never delivered as valid): no first-delivery credit.
      [topics.txs]: topicParams(TOPIC_WEIGHT.txs, EXPECTED_RATE.txs, false),
      [topics.consensus]: topicParams(TOPIC_WEIGHT.consensus, EXPECTED_RATE.consensus, true),
    },
    topicScoreCap: MAX_POSITIVE_SCORE / 2,
    // The application's score is kept beside gossipsub's (scoring.ts), not fed into it.
    appSpecificScore: () => 0,
    appSpecificWeight: 1,
    IPColocationFactorWeight: -MAX_POSITIVE_SCORE,
    IPColocationFactorThreshold: o.ipColocationThreshold,
    behaviourPenaltyWeight: GOSSIP_THRESHOLDS.gossipThreshold / behaviourTarget ** 2,
    behaviourPenaltyThreshold: 6,
    behaviourPenaltyDecay: behaviourDecay,
    decayInterval: DECAY_INTERVAL_MS,
    decayToZero: DECAY_TO_ZERO,
    retainScore: 60 * 60_000,
  })
}
