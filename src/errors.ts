/**
 * Named errors (STYLE.md §10). Every error a user can see carries a stable code,
 * says what was wrong and where (file, field, block, packet source), and fits on one line.
 */
export type CarbErrorCode =
  | 'CARB_ERR_USAGE'
  | 'CARB_ERR_CONFIG_READ'
  | 'CARB_ERR_CONFIG_SYNTAX'
  | 'CARB_ERR_CONFIG_FIELD'
  | 'CARB_ERR_CONFIG_RELATION'
  | 'CARB_ERR_KEY_FILE'
  | 'CARB_ERR_DISK_OPEN'
  | 'CARB_ERR_DISK_IO'
  | 'CARB_ERR_DISK_SHORT'
  | 'CARB_ERR_DISK_BAD_MAGIC'
  | 'CARB_ERR_DISK_BAD_VERSION'
  | 'CARB_ERR_DISK_BAD_CRC'
  | 'CARB_ERR_DISK_FOREIGN_CLUSTER'
  | 'CARB_ERR_DISK_WRONG_KIND'
  | 'CARB_ERR_DISK_MISPLACED'
  | 'CARB_ERR_DISK_WRONG_WRITER'
  | 'CARB_ERR_DISK_BAD_PAYLOAD'
  | 'CARB_ERR_DISK_ALREADY_INITIALIZED'
  | 'CARB_ERR_DISK_TOO_SMALL'
  | 'CARB_ERR_DISK_UNREADABLE'
  | 'CARB_ERR_NET_BIND'
  | 'CARB_ERR_NET_RESOLVE'
  | 'CARB_ERR_JOURNAL_OPEN'
  | 'CARB_ERR_JOURNAL_CORRUPT'
  | 'CARB_ERR_JOURNAL_VERSION'
  | 'CARB_ERR_JOURNAL_WRITE'
  | 'CARB_ERR_JOURNAL_BACKLOG'
  | 'CARB_ERR_CONTROL_CONNECT'
  | 'CARB_ERR_CONTROL_PROTOCOL'
  | 'CARB_ERR_CONTROL_PERMISSION'
  | 'CARB_ERR_REPLAY_DIVERGED'
  | 'CARB_ERR_NODE_UNKNOWN'
  | 'CARB_ERR_PAXOS_OWN_BLOCK'
  | 'CARB_ERR_LEASE_HELD'
  | 'CARB_ERR_LEASE_NOT_HELD'
  | 'CARB_ERR_LEASE_CONTENTION'
  | 'CARB_ERR_CONFIG_VERSION'
  | 'CARB_ERR_CONFIG_EXISTS'
  | 'CARB_ERR_CONFIG_TOO_LARGE'
  | 'CARB_ERR_DISK_NO_CLUSTER_FILE'
  | 'CARB_ERR_NODE_RUNNING'
  | 'CARB_ERR_SERVICE_UNKNOWN'
  | 'CARB_ERR_SERVICE_EXISTS'
  | 'CARB_ERR_SERVICE_LIMIT'
  | 'CARB_ERR_SERVICE_ENABLED'
  | 'CARB_ERR_SERVICE_DISABLED'
  | 'CARB_ERR_SERVICE_UNCHANGED'
  | 'CARB_ERR_SERVICE_RELOCATE'
  | 'CARB_ERR_AGENT_BAD_CALL'
  | 'CARB_ERR_AGENT_META_DATA'
  | 'CARB_ERR_CLEANUP_FAILED'
  | 'CARB_ERR_FENCE_UNKNOWN_NODE'
  | 'CARB_ERR_WATCHDOG'
  | 'CARB_ERR_OUTPUT_WRITE'
  | 'CARB_ERR_DASHBOARD_TOKEN'
  | 'CARB_ERR_DASHBOARD_LISTEN'
  | 'CARB_ERR_DASHBOARD_REQUEST'
  | 'CARB_ERR_DASHBOARD_AUTH'
  | 'CARB_ERR_DASHBOARD_READ_ONLY'
  | 'CARB_ERR_DASHBOARD_BUSY'
  | 'CARB_ERR_INSTALL_NOT_ROOT'
  | 'CARB_ERR_INSTALL_STEP'

export class CarbError extends Error {
  readonly code: CarbErrorCode
  /** Where the problem is: a file, a file and field, a block, a packet source. */
  readonly where: string | undefined

  constructor(code: CarbErrorCode, message: string, where?: string) {
    super(message)
    this.name = 'CarbError'
    this.code = code
    this.where = where
  }

  /**
   * An error kept as a value, never thrown (a block that was never written, a copy that fails
   * its checks): no stack is captured, which is most of an Error's cost. Every disk cycle
   * reads blocks of every node slot and service, most of them empty.
   */
  static value(code: CarbErrorCode, message: string, where?: string): CarbError {
    const limit = Error.stackTraceLimit
    Error.stackTraceLimit = 0
    try {
      return new CarbError(code, message, where)
    } finally {
      Error.stackTraceLimit = limit
    }
  }

  /** The one line a CLI prints: `CODE: where: message`. */
  oneLine(): string {
    const text = this.where === undefined ? this.message : `${this.where}: ${this.message}`
    return `${this.code}: ${text.replace(/\s*\n\s*/g, ' ')}`
  }
}

export function isCarbError(value: unknown): value is CarbError {
  return value instanceof CarbError
}
