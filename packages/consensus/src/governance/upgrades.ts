/**
 * Scheduled upgrades (Cosmos's x/upgrade): governance's `scheduleUpgrade(name, height)` records a
 * plan in the governance contract; every node reads it at the start of each block's end. At the
 * plan's height a node applies the upgrade if its build knows the name (`KNOWN_UPGRADES`: the
 * handler runs inside that block, on its state, the same way on every node that has it) or was told
 * to skip it (`unsafeSkipUpgrades`); otherwise it stops before that height — every such node on the
 * same decision, read in the state after the block before it (`StakingHooks.upgradeBlocking`,
 * bft/upgrade-halt.ts) — with a message that names the upgrade and says to run a release that
 * includes it. No node that lacks the new rules ever commits a block made under them.
 */

import type { EndBlockContext } from '@cairn/chain'
import { CairnError } from '@cairn/utils'
import { ConsensusErrorCode } from '../errors.ts'

/** A scheduled upgrade as the governance contract holds it (`name` empty: none). */
export interface UpgradePlan {
  name: string
  height: bigint
}

/** What a known upgrade does at its height, inside the block (a state migration, new parameters). */
export type UpgradeHandler = (ctx: EndBlockContext) => Promise<void>

/**
 * The upgrades this build knows, by name. Each release adds the upgrade that leads to it (and its
 * rule changes go into the fork schedule at the plan's height). None so far: the first network
 * upgrade will be the first entry.
 */
export const KNOWN_UPGRADES: ReadonlyMap<string, UpgradeHandler> = new Map()

/** The error a node halts with at an upgrade it does not know. */
export function upgradeRequired(plan: UpgradePlan, version: string): CairnError {
  return new CairnError(
    ConsensusErrorCode.UPGRADE_REQUIRED,
    `UPGRADE "${plan.name}" NEEDED at height ${plan.height}: this build (${version}) does not know it; the node stops before that block`,
    {
      fault: 'internal',
      hint: `run a Cairn release that includes the "${plan.name}" upgrade from the same datadir (it resumes at height ${plan.height}), or, only if the network agreed to skip it, start with --unsafe-skip-upgrades ${plan.name}`,
    },
  )
}
