import { validatePeerScoreParams } from '@libp2p/gossipsub/score'
import { describe, expect, it } from 'vitest'
import { topicsOf } from '../src/gossip.ts'
import {
  GOSSIP_THRESHOLDS,
  gossipScoreParams,
  MAX_FIRST_DELIVERIES_SCORE,
  MAX_IN_MESH_SCORE,
  MAX_POSITIVE_SCORE,
  scoreDecay,
  TOPIC_WEIGHT,
} from '../src/gossip-score.ts'
import { GOSSIP_SCORE_AT_BAN, PeerScores } from '../src/scoring.ts'

const topics = topicsOf(1337n, `0x${'ab'.repeat(32)}`)
const params = gossipScoreParams(topics, { ipColocationThreshold: 8 })

/** Gossipsub's P4 contribution of `n` invalid messages on a topic (before decay). */
const invalid = (topic: string, n: number) => {
  const t = params.topics[topic]
  if (!t) throw new Error(`no params for ${topic}`)
  return t.topicWeight * t.invalidMessageDeliveriesWeight * n * n
}

describe('gossipsub topic scores', () => {
  it('are valid for gossipsub, for each of the three topics', () => {
    expect(() => validatePeerScoreParams(params)).not.toThrow()
    expect(Object.keys(params.topics).sort()).toEqual([topics.blocks, topics.consensus, topics.txs].sort())
    expect(params.topicScoreCap).toBe(MAX_POSITIVE_SCORE / 2)
  })

  it('give at most the maximum positive score: an hour in the mesh plus capped first deliveries', () => {
    let max = 0
    for (const [name, t] of Object.entries(params.topics)) {
      const mesh = t.timeInMeshWeight * t.timeInMeshCap
      const first = t.firstMessageDeliveriesWeight * t.firstMessageDeliveriesCap
      expect(mesh).toBeCloseTo(MAX_IN_MESH_SCORE)
      expect(first).toBeCloseTo(name === topics.txs ? 0 : MAX_FIRST_DELIVERIES_SCORE)
      max += t.topicWeight * (mesh + first)
    }
    expect(max).toBeLessThanOrEqual(MAX_POSITIVE_SCORE)
    expect(TOPIC_WEIGHT.txs).toBeLessThan(TOPIC_WEIGHT.blocks)
  })

  it('one invalid message costs the maximum positive score; a few disconnect, then ban, before gossipsub graylists', () => {
    expect(invalid(topics.blocks, 1)).toBeCloseTo(-MAX_POSITIVE_SCORE)
    expect(invalid(topics.txs, 1)).toBeCloseTo(-MAX_POSITIVE_SCORE)
    const state = (n: number) => new PeerScores(() => 0).setGossipScore('p', invalid(topics.blocks, n))
    expect(state(2)).toBe('healthy')
    expect(state(4)).toBe('disconnect')
    expect(state(5)).toBe('ban')
    // The application bans before gossipsub stops gossiping with the peer.
    expect(GOSSIP_SCORE_AT_BAN).toBeGreaterThan(GOSSIP_THRESHOLDS.gossipThreshold)
  })

  it('decay reaches zero in the given time', () => {
    expect(scoreDecay(60) ** 60).toBeCloseTo(0.01)
    expect(scoreDecay(3600) ** 3600).toBeCloseTo(0.01)
  })
})
