/** The governance contract's enumerations as numbers on the wire (Governance.sol), by name. */

/** `Governance.STATUS_*`: a proposal's status by its code (`getProposal`, `ProposalTallied`). */
export const PROPOSAL_STATUS: Readonly<Record<number, string>> = {
  1: 'voting',
  2: 'passed',
  3: 'rejected',
  4: 'executed',
  5: 'expired',
}

/** `Governance.vote(id, option)`'s options by name (`no-with-veto` is Cosmos's name for veto). */
export const VOTE_OPTIONS = { yes: 1, abstain: 2, no: 3, veto: 4, 'no-with-veto': 4 } as const

/** An option's name by its code (`Voted`). */
export const VOTE_OPTION_NAMES: Readonly<Record<number, string>> = { 1: 'yes', 2: 'abstain', 3: 'no', 4: 'veto' }
