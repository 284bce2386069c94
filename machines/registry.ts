/** Every machine type the journal can name, so replay can build fresh ones from `create` records. */
import type { AnyStateMachine } from 'xstate'
import { localNodeMachine } from './local-node.js'
import { peerMachine } from './membership.js'
import { serviceMachine } from './service.js'
import { fencingMachine } from './fencing.js'

export const MACHINES: Readonly<Record<string, AnyStateMachine>> = {
  peer: peerMachine,
  local: localNodeMachine,
  service: serviceMachine,
  fencing: fencingMachine,
}

/** Bumped whenever a machine's decisions change; recorded in each journal's start record. */
export const DECISION_CODE_VERSION = 'membership-3'

/**
 * Decision-code versions whose journals this build replays exactly. membership-1 journals hold
 * only peer and local machines, which services-1 left unchanged; fencing-1 added the fencing
 * machine, the local node's POISON_PILL input and its stop reserve (absent in older local
 * inputs: 0, the old deadline), so services-1 journals decide as they did. membership-2: a
 * peer dead because it reported itself out, then writing "down", is left (a pill answered);
 * the rule is on only where the peer machine's input says `leavesAfterOut`, which older
 * journals lack, so they decide as they did. membership-3: a peer's disk silence is counted only
 * up to one disk cycle after this observer's last completed read of its block (an observer whose
 * own reads run late no longer suspects its peers); on only where the peer input's timing holds
 * `diskReadIntervalMs`, which older journals lack.
 */
export const REPLAYABLE_CODE_VERSIONS: readonly string[] = ['membership-1', 'services-1', 'fencing-1', 'membership-2', DECISION_CODE_VERSION]
