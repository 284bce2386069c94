/** Every machine type the journal can name, so replay can build fresh ones from `create` records. */
import type { AnyStateMachine } from 'xstate'
import { localNodeMachine } from './local-node.js'
import { peerMachine } from './membership.js'

export const MACHINES: Readonly<Record<string, AnyStateMachine>> = {
  peer: peerMachine,
  local: localNodeMachine,
}

/** Bumped whenever a machine's decisions change; recorded in each journal's start record. */
export const DECISION_CODE_VERSION = 'membership-1'

/** Decision-code versions whose journals this build replays exactly. */
export const REPLAYABLE_CODE_VERSIONS: readonly string[] = [DECISION_CODE_VERSION]
