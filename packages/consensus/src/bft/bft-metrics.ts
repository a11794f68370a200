import { Counter, Gauge, Histogram, type Registry } from 'prom-client'

/** The BFT engine's metrics. The engine takes `BftMetrics | null` (null: not measured). */
export interface BftMetrics {
  height: Gauge
  round: Gauge
  step: Gauge
  commits: Counter
  roundsPerHeight: Histogram
  /** From the start of a height on this node (the previous commit, the wait included) to its commit. */
  commitSeconds: Histogram
  /** Validators of a height whose precommit is not in the certificate of it the next block carries. */
  missedSignatures: Counter<'validator'>
  evidence: Counter
  refusedSignatures: Counter
  /** From this node entering a round to the round's proposal arriving from a peer (0: it came first). */
  proposalReceiveSeconds: Histogram
  /** From this node entering a round to each validator's vote of it arriving, by type. */
  voteReceiveSeconds: Histogram<'type'>
}

/** Latency buckets (s) for proposals and votes. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5]

export function createBftMetrics(register: Registry): BftMetrics {
  const registers = [register]
  return {
    height: new Gauge({ name: 'cairn_bft_height', help: 'The height the BFT machine decides', registers }),
    round: new Gauge({ name: 'cairn_bft_round', help: 'The round the BFT machine is in', registers }),
    step: new Gauge({
      name: 'cairn_bft_step',
      help: 'The step of the round (0 new height, 1 propose, 2 prevote, 3 precommit)',
      registers,
    }),
    commits: new Counter({ name: 'cairn_bft_commits_total', help: 'Heights committed', registers }),
    roundsPerHeight: new Histogram({
      name: 'cairn_bft_rounds_per_height',
      help: 'Rounds a height took to commit (1: committed in round 0)',
      buckets: [1, 2, 3, 5, 10],
      registers,
    }),
    commitSeconds: new Histogram({
      name: 'cairn_bft_commit_seconds',
      help: 'From the start of a height on this node (the previous commit, block-time wait included) to its commit',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
      registers,
    }),
    missedSignatures: new Counter({
      name: 'cairn_bft_missed_signatures_total',
      help: "Committed heights whose certificate (as the next block carries it) lacks a validator's precommit, by validator",
      labelNames: ['validator'],
      registers,
    }),
    evidence: new Counter({
      name: 'cairn_bft_evidence_total',
      help: 'Duplicate-vote evidence seen (equivocations)',
      registers,
    }),
    refusedSignatures: new Counter({
      name: 'cairn_bft_refused_signatures_total',
      help: 'Signatures the signer state refused (they would have conflicted with an earlier one)',
      registers,
    }),
    proposalReceiveSeconds: new Histogram({
      name: 'cairn_bft_proposal_receive_seconds',
      help: "From this node entering a round to the round's proposal arriving from a peer (0 when it came before)",
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    voteReceiveSeconds: new Histogram({
      name: 'cairn_bft_vote_receive_seconds',
      help: "From this node entering a round to each validator's first vote of it arriving from a peer, by type",
      labelNames: ['type'],
      buckets: LATENCY_BUCKETS,
      registers,
    }),
  }
}
