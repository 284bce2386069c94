/** Exit codes of `carbonado node run` when the node ends itself (README: "Fencing"). */

/** A poison pill for this incarnation was read: every resource stopped, the process ends. */
export const EXIT_FENCED = 3
/** The in-process watchdog: resources not stopped within selfFenceStopMs; the process ends at once. */
export const EXIT_WATCHDOG = 4
/** Start-up clean-up could not stop resources whose lease names this node: not joining. */
export const EXIT_CLEANUP_FAILED = 5
/** A resource would not stop and this node has a fence method: it leaves so that peers fence it. */
export const EXIT_STOP_FAILED = 6
