/**
 * carbonado.service, kept as data so that it ships in dist/ with the code it runs and cannot
 * drift from it: every directive carries its reason, printed above it in the unit and in the
 * README's table (a test checks both).
 *
 * One fact shapes the whole unit: resource agents start the cluster's services as children
 * of the node daemon, so those services live in this unit's control group and inherit its
 * execution settings. Whatever sandboxing this unit applied would apply to every database
 * and web server the cluster runs, and any directive that gives the daemon a mount namespace
 * would hide the file systems the agents mount from the rest of the host. UNIT_LEFT_OUT says
 * which directives are left out for that reason.
 */
import { DEFAULT_TIMING } from '../config/timing.js'

export interface UnitDirective { section: 'Unit' | 'Service' | 'Install'; key: string; value: string; reason: string }

/** Where the unit goes and what it runs. */
export const UNIT_NAME = 'carbonado.service'
export const UNIT_PATH = '/etc/systemd/system/carbonado.service'
export const CONFIG_PATH = '/etc/carbonado/cluster.yaml'
/** First line of every unit `carbonado install` writes; a unit without it is someone else's. */
export const UNIT_MARKER = '# carbonado.service: written by `carbonado install`'

/** systemd's watchdog: half the default self-fence deadline (see the reason below). */
export const WATCHDOG_SEC = DEFAULT_TIMING.selfFenceAfterMs / 2 / 1000

/** Exit codes after which a restart cannot help or would do harm (src/runtime/exit-codes.ts, main.ts). */
const EXIT_USAGE_OR_CONFIG = 2
const EXIT_STOP_FAILED = 6

function directives(execStart: string): UnitDirective[] {
  const d = (section: UnitDirective['section'], key: string, value: string, reason: string): UnitDirective => ({ section, key, value, reason })
  return [
    d('Unit', 'Description', 'Carbonado high-availability cluster node', 'what `systemctl status` shows'),
    d('Unit', 'Wants', 'network-online.target', 'heartbeats bind to configured addresses, and a shared disk may be iSCSI: pull in the wait for a configured network'),
    d('Unit', 'After', 'network-online.target open-iscsi.service iscsi.service multipathd.service', 'start once addresses are up and the shared disk paths (iSCSI sessions, multipath maps) exist; ordering only, so the units need not exist; at shutdown the node stops its services before the network and the disk go'),
    d('Unit', 'StartLimitIntervalSec', '10min', 'with StartLimitBurst: at most 5 starts in 10 minutes'),
    d('Unit', 'StartLimitBurst', '5', 'a node that fails 5 times in 10 minutes has a problem a restart will not fix (a lost disk path, a broken config): it stays failed, its services already moved, until an operator looks (`systemctl reset-failed carbonado`)'),
    d('Service', 'Type', 'notify', 'the node tells systemd READY=1 once it has joined, so `systemctl start` and units ordered after this one wait for a member'),
    d('Service', 'NotifyAccess', 'all', 'the daemon notifies through `systemd-notify --pid=…`, a child process (Node has no Unix datagram sockets); agents never see NOTIFY_SOCKET: they run with a clean environment (src/agents/environment.ts)'),
    d('Service', 'ExecStart', `${execStart} node run -c ${CONFIG_PATH}`, 'the node named like this host (`--node` is not needed when node names are host names)'),
    d('Service', 'ExecReload', '/bin/kill -HUP $MAINPID', '`systemctl reload carbonado` reads the cluster key files again (a key rotation, see the README) without a restart; nothing else is reloaded'),
    d('Service', 'WatchdogSec', `${WATCHDOG_SEC}s`, `half the default selfFenceAfterMs (${DEFAULT_TIMING.selfFenceAfterMs} ms); the daemon pings every ${WATCHDOG_SEC / 2} s while healthy. A daemon frozen while its services run (SIGSTOP, a stuck event loop) cannot self-fence; systemd kills it, and with it every service process of this unit, within ${WATCHDOG_SEC} s of its last ping: before peers count it dead (diskDeadAfterMs ${DEFAULT_TIMING.diskDeadAfterMs} ms). A lost disk stops the pings when the node's own self-fence begins (selfFenceAfterMs - selfFenceStopMs = ${DEFAULT_TIMING.selfFenceAfterMs - DEFAULT_TIMING.selfFenceStopMs} ms), so systemd acts only after the node had its stop reserve`),
    d('Service', 'WatchdogSignal', 'SIGKILL', 'a stopped process does not act on the default SIGABRT until it runs again; SIGKILL ends it at once'),
    d('Service', 'Restart', 'on-failure', 'a crash, a kill, a watchdog timeout and the self-fence exits (3 poison pill, 4 in-process watchdog, 5 start-up clean-up failed) restart the node: its start-up clean-up stops what the last incarnation left (mounts and addresses survive a killed process), then it rejoins as a new incarnation. A clean stop (exit 0) stays stopped'),
    d('Service', 'RestartSec', '2s', `soon, so that the clean-up unmounts and removes addresses before peers take over (diskDeadAfterMs ${DEFAULT_TIMING.diskDeadAfterMs} ms after the last disk write); StartLimitBurst bounds a crash loop`),
    d('Service', 'RestartPreventExitStatus', `${EXIT_USAGE_OR_CONFIG} ${EXIT_STOP_FAILED}`, `${EXIT_USAGE_OR_CONFIG}: a usage or configuration error, which a restart repeats; ${EXIT_STOP_FAILED}: a resource would not stop and the node left so that its peers fence it (or its hardware watchdog resets it): a restart would feed the watchdog again and look alive to the peers`),
    d('Service', 'TimeoutStartSec', '30min', 'start-up clean-up stops what an earlier incarnation left before the node joins, with the same stop timeouts as a clean stop (below)'),
    d('Service', 'TimeoutStopSec', '30min', 'a clean stop stops every service here and releases its lease, bounded by the daemon itself: the sum of its resources\' stop timeouts plus 5 s a service (186 s for one service of three resources at the default 60 s; 30 min covers nine). A SIGKILL in the middle would leave mounts and addresses of a half-stopped service behind while peers take it over, so systemd\'s limit is only the backstop for a hung daemon'),
    d('Service', 'KillMode', 'mixed', 'on stop, SIGTERM goes to the daemon alone, which stops the services in order (application, address, file system); whatever is left when it exits, or when it dies, is SIGKILLed: no service process outlives its node (control-group would signal every service at once, out of order; process would leave them running unsupervised while peers take them over)'),
    d('Service', 'RuntimeDirectory', 'carbonado', 'creates /run/carbonado (the control socket\'s directory) at each start and removes it at stop, so no stale socket survives'),
    d('Service', 'RuntimeDirectoryMode', '0755', 'the socket file\'s own mode and group decide who may connect; the directory only has to be searchable'),
    d('Service', 'OOMScoreAdjust', '-1000', 'the cluster manager must outlive the services it guards: killed by the OOM killer, it would take every service here down with it. Agents are started at score 0 again (src/agents/oom-score.ts), so a leaking service is still the one killed'),
    d('Service', 'LimitNOFILE', '65536:524288', 'inherited by the services the agents start: the soft limit databases and web servers need (systemd\'s own 1024 is too low for them), the hard limit systemd\'s default'),
    d('Service', 'TasksMax', 'infinity', 'every service the cluster runs here is counted in this unit; systemd\'s default cap (15% of pid_max) would make a busy service fail to fork'),
    d('Service', 'LockPersonality', 'yes', 'hardening that breaks nothing here: no process of the unit may switch its execution domain (personality(2), a way to weaken address randomization); a seccomp filter only, no mount namespace, nothing a server needs'),
    d('Service', 'RestrictRealtime', 'yes', 'hardening: no real-time scheduling for the daemon or its services: a runaway real-time service would starve the daemon\'s heartbeats and disk cycle and get the node fenced; a seccomp filter only'),
    d('Service', 'RestrictSUIDSGID', 'yes', 'hardening: neither the daemon nor a service may create setuid or setgid files (a classic way to keep root after a compromise); running the existing ones (su, runuser in init scripts) still works; a seccomp filter only'),
    d('Install', 'WantedBy', 'multi-user.target', '`systemctl enable carbonado` starts the node at boot'),
  ]
}

/** Directives this unit leaves out on purpose (README table; each would break an agent or a service). */
export const UNIT_LEFT_OUT: readonly { key: string; reason: string }[] = [
  { key: 'ProtectSystem, ProtectHome, PrivateTmp, PrivateDevices, ReadOnlyPaths, ProtectKernelTunables, ProtectKernelModules, ProtectKernelLogs, ProtectControlGroups, ProtectProc, MountFlags', reason: 'each gives the daemon a mount namespace: file systems the agents mount would be invisible to the host and its other services (systemd.exec(5): "disables mount propagation to the host"), and agents need /dev (shared disks), /home, /etc and /sys writable' },
  { key: 'PrivateNetwork, IPAddressDeny, RestrictAddressFamilies', reason: 'heartbeats, `ip addr` (IPaddr2, the built-in ip agent) and network fence agents need the host\'s network and netlink' },
  { key: 'NoNewPrivileges', reason: 'inherited by every service: init scripts that drop to a service user through setuid helpers or file capabilities (a web server binding port 80) and AppArmor profile changes would fail' },
  { key: 'CapabilityBoundingSet, SystemCallFilter, RestrictNamespaces, MemoryDenyWriteExecute', reason: 'inherited by every service the agents start (MemoryDenyWriteExecute also breaks the Node JIT); the daemon needs CAP_SYS_ADMIN (mount), CAP_NET_ADMIN (ip) and CAP_SYS_RAWIO anyway' },
  { key: 'ProtectClock, DeviceAllow', reason: 'they close the device policy: the quorum disk, watchdog and serial fence devices would be refused' },
  { key: 'StateDirectory', reason: 'systemd re-owns it to the unit\'s user (root:root) at every start, undoing the root:cluster group that lets operators read the journal; `carbonado install` creates /var/lib/carbonado instead' },
  { key: 'CPUSchedulingPolicy, Nice', reason: 'inherited by every service: a real-time policy would let a runaway service starve the machine' },
]

function quoteForSystemd(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `"${word.replace(/(["\\])/g, '\\$1')}"`
}

/** The ExecStart command prefix: the executable (and the script it runs, for `node main.js`), quoted for systemd. */
export function execCommand(words: readonly string[]): string {
  return words.map(quoteForSystemd).join(' ')
}

/** The directives, in unit order, for the README table and tests. */
export function unitDirectives(execStart: string): readonly UnitDirective[] {
  return directives(execStart)
}

/** The unit file for `execStart` (the command prefix that runs `carbonado`). */
export function renderUnit(execStart: string): string {
  const lines = [UNIT_MARKER, '# Change it with `systemctl edit carbonado` (a drop-in): `carbonado install` rewrites this file.', '# Every directive has its reason above it; the README has the same table.']
  for (const section of ['Unit', 'Service', 'Install'] as const) {
    lines.push('', `[${section}]`)
    for (const directive of directives(execStart).filter((x) => x.section === section)) {
      lines.push(`# ${directive.reason}`, `${directive.key}=${directive.value}`)
    }
  }
  return `${lines.join('\n')}\n`
}
