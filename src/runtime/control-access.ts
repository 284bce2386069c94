/**
 * Who may use the control socket. Node cannot read a Unix socket peer's credentials
 * (SO_PEERCRED), so access rests on file permissions of two sockets, as libvirt does with
 * libvirt-sock and libvirt-sock-ro:
 *   - the admin socket (`controlSocket`, mode 0600 root, or 0660 with controlAdminGroup)
 *     takes every command;
 *   - the read-only socket beside it (`NAME-ro.sock`, mode 0660, group controlGroup) takes
 *     only the commands that change nothing; anything else is refused there by name.
 * The CLI sends read commands of a user who is not root to the read-only socket.
 */
import { basename, dirname, join } from 'node:path'
import { CarbError } from '../errors.js'

/** Commands that only read (status, service list, fencing status, journal export). */
export const READ_COMMANDS: readonly string[] = ['status', 'services', 'fence-status', 'export']

export const isReadCommand = (cmd: string): boolean => READ_COMMANDS.includes(cmd)

/** `/run/carbonado/carbonado.sock` → `/run/carbonado/carbonado-ro.sock`. */
export function readOnlySocketPath(controlSocket: string): string {
  const name = basename(controlSocket)
  const ro = name.endsWith('.sock') ? `${name.slice(0, -'.sock'.length)}-ro.sock` : `${name}-ro`
  return join(dirname(controlSocket), ro)
}

/** The socket a request goes to: read commands of a user who is not root use the read-only one. */
export function socketFor(controlSocket: string, cmd: string, uid: number): string {
  return isReadCommand(cmd) && uid !== 0 ? readOnlySocketPath(controlSocket) : controlSocket
}

/** The refusal of a command that changes the cluster, sent on the read-only socket. */
export function refusedHere(cmd: string): { error: string; code: string } {
  const code = 'CARB_ERR_CONTROL_PERMISSION'
  return { code, error: `${code}: "${cmd}" changes the cluster and is refused on the read-only socket: run it as root (or a member of controlAdminGroup)` }
}

/** A connect refused by the socket's permissions, said in terms of who may do what. */
export function permissionError(path: string, cmd: string): CarbError {
  const who = isReadCommand(cmd) ? 'reading needs root or membership of the controlGroup (default "cluster")' : 'changing the cluster needs root (or membership of controlAdminGroup)'
  return new CarbError('CARB_ERR_CONTROL_PERMISSION', `permission denied for "${cmd}": ${who}`, path)
}
