/**
 * Application-level peer actions, as Lodestar's `PeerAction`: how much a misbehaviour costs, by
 * how often an honest peer could do it. A `fatal` one bans at once.
 */
export const PeerAction = {
  /** Never honest (a block of another chain, an invalid block served for sync). */
  Fatal: 'fatal',
  /** Rarely honest: a handful bans (an invalid gossip block, a bad response). */
  LowToleranceError: 'low',
  /** Sometimes honest: tens before a ban (a request over quota, a timeout). */
  MidToleranceError: 'mid',
  /** Often honest: a hundred before a ban (a useless message, an ignored transaction). */
  HighToleranceError: 'high',
} as const
export type PeerAction = (typeof PeerAction)[keyof typeof PeerAction]

export const ACTION_SCORE: Record<PeerAction, number> = { fatal: -100, low: -10, mid: -5, high: -1 }

export const MAX_SCORE = 100
export const MIN_SCORE = -100
/** At or below: the peer is disconnected. */
export const MIN_SCORE_BEFORE_DISCONNECT = -20
/** At or below: the peer is banned. */
export const MIN_SCORE_BEFORE_BAN = -50
/** Scores decay toward 0 with this half-life. */
export const SCORE_HALFLIFE_MS = 10 * 60_000
/** gossipsub's score at which its contribution alone reaches the ban threshold. */
export const GOSSIP_SCORE_AT_BAN = -1000

export type ScoreState = 'healthy' | 'disconnect' | 'ban'

interface Entry {
  score: number
  gossip: number
  at: number
}

/**
 * Peer scores: the application's score (from {@link PeerAction}s, decaying with a half-life of
 * ten minutes) combined with gossipsub's own score (only its negative part counts, scaled so that
 * {@link GOSSIP_SCORE_AT_BAN} reaches the ban threshold). The state says what the network does:
 * keep the peer, disconnect it, or ban it. Time is injected.
 */
export class PeerScores {
  private readonly entries = new Map<string, Entry>()
  private readonly decay = Math.LN2 / SCORE_HALFLIFE_MS

  constructor(private readonly now: () => number = Date.now) {}

  private entry(peer: string): Entry {
    const t = this.now()
    let e = this.entries.get(peer)
    if (!e) {
      e = { score: 0, gossip: 0, at: t }
      this.entries.set(peer, e)
    }
    if (t > e.at) {
      e.score *= Math.exp(-this.decay * (t - e.at))
      if (Math.abs(e.score) < 1e-3) e.score = 0
      e.at = t
    }
    return e
  }

  /** Records an action against the peer; answers the peer's new state. */
  apply(peer: string, action: PeerAction): ScoreState {
    const e = this.entry(peer)
    e.score = Math.max(MIN_SCORE, Math.min(MAX_SCORE, e.score + ACTION_SCORE[action]))
    return this.state(peer)
  }

  /** Updates gossipsub's score of the peer. */
  setGossipScore(peer: string, gossip: number): ScoreState {
    this.entry(peer).gossip = gossip
    return this.state(peer)
  }

  /** The combined score. */
  score(peer: string): number {
    const e = this.entry(peer)
    const gossip = e.gossip < 0 ? (e.gossip / GOSSIP_SCORE_AT_BAN) * MIN_SCORE_BEFORE_BAN : 0
    return Math.max(MIN_SCORE, e.score + gossip)
  }

  state(peer: string): ScoreState {
    const s = this.score(peer)
    if (s <= MIN_SCORE_BEFORE_BAN) return 'ban'
    if (s <= MIN_SCORE_BEFORE_DISCONNECT) return 'disconnect'
    return 'healthy'
  }

  forget(peer: string): void {
    this.entries.delete(peer)
  }

  /** Every scored peer, for metrics. */
  all(): [string, number][] {
    return [...this.entries.keys()].map((p) => [p, this.score(p)])
  }
}
