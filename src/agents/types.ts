/**
 * Resource agents: the shell that starts, stops and watches one resource of a service.
 * The service machine decides; these functions act and report an AgentResult, which comes
 * back to the machine as an input. An agent failure is a result, never an exception.
 */

export type AgentOp = 'start' | 'stop' | 'monitor' | 'validate'

/**
 * ok            the operation did what was asked (monitor: the resource is running)
 * not-running   monitor only: cleanly stopped (LSB status 3, OCF_NOT_RUNNING, inactive unit)
 * failed        the resource is in trouble; the caller applies the service's policy
 * timeout       the agent did not finish in time and its whole process group was killed
 * misconfigured the resource cannot work here as configured (missing script, OCF_ERR_CONFIGURED)
 */
export type AgentOutcome = 'ok' | 'not-running' | 'failed' | 'timeout' | 'misconfigured'

export const AGENT_OPS: readonly AgentOp[] = ['start', 'stop', 'monitor', 'validate']

export interface AgentResult {
  op: AgentOp
  outcome: AgentOutcome
  /** Exit code of the last command the operation ran; null when killed by a signal or never started. */
  exitCode: number | null
  signal: string | null
  durationMs: number
  /** stdout and stderr in arrival order, at most AGENT_OUTPUT_MAX_BYTES, the tail kept (it has the error). */
  output: string
  /** One line for the node log: what ran and why the outcome is what it is. */
  detail: string
}

export interface ScriptSpec {
  type: 'script'
  name: string
  /** Absolute path of an LSB init script, or any executable taking start|stop|status. */
  path: string
  /** Arguments placed before the action: `service httpd start` is path /usr/sbin/service, args ["httpd"]. */
  args?: string[]
}

export interface OcfSpec {
  type: 'ocf'
  name: string
  /** e.g. "heartbeat": the agent is `${ocfRoot}/resource.d/${provider}/${agent}`. */
  provider: string
  /** e.g. "Dummy", "IPaddr2". */
  agent: string
  /** Passed as OCF_RESKEY_<name>=<value>. */
  params: Record<string, string>
  /** Default OCF_ROOT_DEFAULT (where Debian's resource-agents package installs). */
  ocfRoot?: string
}

export interface SystemdSpec {
  type: 'systemd'
  name: string
  /** A unit name such as "nginx.service". */
  unit: string
}

export interface IpSpec {
  type: 'ip'
  name: string
  /** IPv4 or IPv6 literal. */
  address: string
  prefix: number
  interface: string
  /**
   * Gratuitous ARP after adding an IPv4 address, so neighbours update their caches: absent,
   * sent when `arping` is on the agent PATH (skipped when not); false, never; true, required
   * (without arping the start answers misconfigured). See ip-agent.ts.
   */
  arping?: boolean
}

export interface FsSpec {
  type: 'fs'
  name: string
  /** Absolute path of a block device (its major:minor identifies it), or a source such as "server:/export". */
  device: string
  mountPoint: string
  fsType: string
  /** Passed as `mount -o OPTIONS`. */
  options?: string
  /** Kill the processes that hold the file system busy at stop (default true, as rgmanager's force_unmount). */
  forceUnmount?: boolean
}

export type ResourceSpec = ScriptSpec | OcfSpec | SystemdSpec | IpSpec | FsSpec
export type ResourceType = ResourceSpec['type']

export interface RunOptions {
  /** The whole operation, every command it runs included, must end within this. */
  timeoutMs: number
  /** Added to (and overriding) the clean environment; tests put fake tools first in PATH this way. */
  env?: NodeJS.ProcessEnv
  /** Called with each output line as it arrives, for the node log. */
  onOutput?: (line: string) => void
  /**
   * Run the agent inside this network namespace (`ip netns exec NAME ...`): integration
   * tests simulate hosts this way. The fs agent ignores it (see fs-agent.ts).
   */
  netns?: string
  /** Aborting it kills the agent's process group at once (the node went out: a start must not finish). */
  signal?: AbortSignal
}

/** Where Debian's resource-agents package puts agents and their shell library. */
export const OCF_ROOT_DEFAULT = '/usr/lib/ocf'

/** The journal keeps the tail of an agent's output; 2 KiB holds the lines that explain a failure. */
export const AGENT_OUTPUT_MAX_BYTES = 2048

/** Memory held per running agent for its output: beyond this only the tail is kept. */
export const AGENT_CAPTURE_MAX_BYTES = 64 * 1024

/** Between SIGTERM and SIGKILL of a timed-out agent's group: time to clean up, not to finish. */
export const AGENT_KILL_GRACE_MS = 2000

/**
 * After SIGKILL, how long to wait for the exit. A process in uninterruptible sleep (a hung
 * NFS or disk path) may never exit; the caller must not hang with it.
 */
export const AGENT_REAP_WAIT_MS = 1000

/** The PATH every agent runs with, whatever the node's own environment holds. */
export const AGENT_PATH = '/usr/sbin:/usr/bin:/sbin:/bin'
