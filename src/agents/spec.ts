/**
 * Checking a resource as the config file gives it. Every value that reaches a command line
 * is checked here against a pattern that cannot start an option or hold a separator, so a
 * resource name or a parameter never turns into an argument it was not meant to be.
 * Errors are one line naming the field: `services.web.resources[1].prefix: must be ...`.
 */
import { isIP } from 'node:net'
import { isAbsolute, normalize } from 'node:path'
import { CarbError } from '../errors.js'
import { show } from '../safe-string.js'
import type { FsSpec, IpSpec, OcfSpec, ResourceSpec, ResourceType, ScriptSpec, SystemdSpec } from './types.js'

export type { ResourceSpec } from './types.js'

type Obj = Record<string, unknown>

/** An OCF_RESOURCE_INSTANCE and a log word: no spaces, no leading dash. */
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/
/** A file name in resource.d: no '/', so never a path out of OCF_ROOT. */
const OCF_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}$/
const OCF_PARAM_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/
const OCF_PARAMS_MAX = 64
/** systemd's unit name characters (systemd.unit(5)), with an optional type suffix. */
const UNIT_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9:_.\\@-]{0,254}$/
/** Linux interface names: at most 15 bytes (IFNAMSIZ - 1), no '/', ':' or space. */
const INTERFACE_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}$/
const FS_TYPE_PATTERN = /^[a-z0-9][a-z0-9._+-]{0,31}$/
/** A comma-separated mount option list: no spaces, not an option of mount itself. */
const MOUNT_OPTIONS_PATTERN = /^[^\s,-][^\s]{0,1023}$/
const SCRIPT_ARGS_MAX = 32
const TYPES: readonly ResourceType[] = ['script', 'ocf', 'systemd', 'ip', 'fs']
/** The fields each type of resource has. */
export const RESOURCE_FIELDS: Readonly<Record<ResourceType, readonly string[]>> = {
  script: ['type', 'name', 'path', 'args'],
  ocf: ['type', 'name', 'provider', 'agent', 'params', 'ocfRoot'],
  systemd: ['type', 'name', 'unit'],
  ip: ['type', 'name', 'address', 'prefix', 'interface', 'arping'],
  fs: ['type', 'name', 'device', 'mountPoint', 'fsType', 'options', 'forceUnmount'],
}


class Fields {
  constructor(readonly where: string, readonly obj: Obj, readonly file: string | undefined) {}

  error(field: string, message: string): CarbError {
    return new CarbError('CARB_ERR_CONFIG_FIELD', `${this.where}.${field}: ${message}`, this.file)
  }

  string(field: string, pattern: RegExp, hint: string): string {
    const value = this.obj[field]
    if (typeof value !== 'string' || value.length === 0) throw this.error(field, `must be a non-empty string, got ${show(value)}`)
    if (!pattern.test(value)) throw this.error(field, `${hint}, got ${show(value)}`)
    return value
  }

  path(field: string, allowRoot = true): string {
    const value = this.string(field, /^\/[^\0\n]*$/, 'must be an absolute path')
    if (normalize(value) !== value || (value.length > 1 && value.endsWith('/'))) throw this.error(field, `must be a normalized absolute path (no "..", "//" or trailing "/"), got ${show(value)}`)
    if (!allowRoot && value === '/') throw this.error(field, 'must not be "/"')
    return value
  }

  optionalBoolean(field: string): boolean | undefined {
    const value = this.obj[field]
    if (value === undefined || typeof value === 'boolean') return value
    throw this.error(field, `must be true or false, got ${show(value)}`)
  }
}

/**
 * Returns a fresh, checked copy or throws CARB_ERR_CONFIG_FIELD with a one-line message
 * naming the field. Two ways to call it:
 * - `validateResourceSpec(value, 'services.web.resources[1]')`: the message starts with
 *   that path (`services.web.resources[1].prefix: must be ...`);
 * - `validateResourceSpec(value, file, 'services[0].resources[1]')`, as the config readers
 *   in src/config/fields.ts do: the path starts the message, the file is the error's `where`.
 */
export function validateResourceSpec(value: unknown, where: string, fieldPath?: string): ResourceSpec {
  const path = fieldPath ?? where
  const file = fieldPath === undefined ? undefined : where
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CarbError('CARB_ERR_CONFIG_FIELD', `${path}: must be a mapping with a type field, got ${show(value)}`, file)
  }
  const f = new Fields(path, value as Obj, file)
  const type = f.obj.type
  if (typeof type !== 'string' || !TYPES.includes(type as ResourceType)) throw f.error('type', `must be one of ${TYPES.join(', ')}, got ${show(type)}`)
  const known = RESOURCE_FIELDS[type as ResourceType]
  for (const key of Object.keys(f.obj)) if (!known.includes(key)) throw f.error(key, `unknown field for a ${type} resource (known: ${known.join(', ')})`)
  const name = f.string('name', NAME_PATTERN, `must match ${NAME_PATTERN}`)
  switch (type as ResourceType) {
    case 'script': return scriptSpec(f, name)
    case 'ocf': return ocfSpec(f, name)
    case 'systemd': return { type: 'systemd', name, unit: f.string('unit', UNIT_PATTERN, 'must be a systemd unit name such as "nginx.service"') } satisfies SystemdSpec
    case 'ip': return ipSpec(f, name)
    case 'fs': return fsSpec(f, name)
  }
}

function scriptSpec(f: Fields, name: string): ScriptSpec {
  const spec: ScriptSpec = { type: 'script', name, path: f.path('path') }
  const args = f.obj.args
  if (args === undefined) return spec
  if (!Array.isArray(args) || args.length > SCRIPT_ARGS_MAX) throw f.error('args', `must be a list of at most ${SCRIPT_ARGS_MAX} strings, got ${show(args)}`)
  args.forEach((arg, i) => {
    if (typeof arg !== 'string' || arg.includes('\0')) throw f.error(`args[${i}]`, `must be a string, got ${show(arg)}`)
  })
  return { ...spec, args: [...(args as string[])] }
}

function ocfSpec(f: Fields, name: string): OcfSpec {
  const hint = 'must be a plain file name (letters, digits, "_.+-"; no "/" or "..")'
  const provider = f.string('provider', OCF_NAME_PATTERN, hint)
  const agent = f.string('agent', OCF_NAME_PATTERN, hint)
  for (const [field, text] of [['provider', provider], ['agent', agent]] as const) if (text.includes('..')) throw f.error(field, `${hint}, got ${show(text)}`)
  const raw = f.obj.params ?? {}
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw f.error('params', `must be a mapping of parameter names to values, got ${show(raw)}`)
  const entries = Object.entries(raw as Obj)
  if (entries.length > OCF_PARAMS_MAX) throw f.error('params', `must have at most ${OCF_PARAMS_MAX} entries, got ${entries.length}`)
  const params: Record<string, string> = {}
  for (const [key, param] of entries) {
    if (!OCF_PARAM_PATTERN.test(key)) throw f.error(`params.${key}`, `parameter name must match ${OCF_PARAM_PATTERN}`)
    // YAML reads `cidr_netmask: 24` as a number; the agent gets text either way.
    if (typeof param !== 'string' && typeof param !== 'number' && typeof param !== 'boolean') throw f.error(`params.${key}`, `must be a string, number or boolean, got ${show(param)}`)
    if (String(param).includes('\0')) throw f.error(`params.${key}`, 'must not contain a NUL byte')
    params[key] = String(param)
  }
  const spec: OcfSpec = { type: 'ocf', name, provider, agent, params }
  return f.obj.ocfRoot === undefined ? spec : { ...spec, ocfRoot: f.path('ocfRoot') }
}

function ipSpec(f: Fields, name: string): IpSpec {
  const address = f.obj.address
  // A zone ("fe80::1%eth0") is not part of an address `ip addr add` takes: the interface says it.
  const family = typeof address === 'string' && !address.includes('%') ? isIP(address) : 0
  if (family === 0) throw f.error('address', `must be an IPv4 or IPv6 address, got ${show(address)}`)
  const prefix = f.obj.prefix
  const maxPrefix = family === 4 ? 32 : 128
  if (typeof prefix !== 'number' || !Number.isInteger(prefix) || prefix < 0 || prefix > maxPrefix) {
    throw f.error('prefix', `must be an integer 0..32 (IPv4) or 0..128 (IPv6), got ${show(prefix)}`)
  }
  const iface = f.string('interface', INTERFACE_PATTERN, 'must be an interface name of at most 15 characters (letters, digits, "_.-")')
  const spec: IpSpec = { type: 'ip', name, address: address as string, prefix, interface: iface }
  const arping = f.optionalBoolean('arping')
  return arping === undefined ? spec : { ...spec, arping }
}

function fsSpec(f: Fields, name: string): FsSpec {
  const rawDevice = f.string('device', /^[^\s-][^\s]*$/, 'must be a device path or a source such as "server:/export", without spaces')
  const device = isAbsolute(rawDevice) ? f.path('device') : rawDevice
  const spec: FsSpec = { type: 'fs', name, device, mountPoint: f.path('mountPoint', false), fsType: f.string('fsType', FS_TYPE_PATTERN, 'must be a file system type such as "ext4"') }
  const withOptions = f.obj.options === undefined ? spec : { ...spec, options: f.string('options', MOUNT_OPTIONS_PATTERN, 'must be a mount option list such as "noatime,nodev", without spaces') }
  const force = f.optionalBoolean('forceUnmount')
  return force === undefined ? withOptions : { ...withOptions, forceUnmount: force }
}
