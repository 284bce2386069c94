/** validateResourceSpec: good specs come back as fresh copies; bad ones fail on one line naming the field. */
import t from 'tap'
import { isCarbError } from '../../src/errors.js'
import { validateResourceSpec } from '../../src/agents/spec.js'

const WHERE = 'services.web.resources[1]'

function rejection(value: unknown): string {
  try {
    validateResourceSpec(value, WHERE)
  } catch (error) {
    if (!isCarbError(error)) throw error
    if (error.code !== 'CARB_ERR_CONFIG_FIELD') throw new Error(`unexpected code ${error.code}`)
    return error.message
  }
  throw new Error(`accepted ${JSON.stringify(value)}`)
}

const ip = { type: 'ip', name: 'vip', address: '10.77.0.10', prefix: 24, interface: 'eth0' }
const fs = { type: 'fs', name: 'data', device: '/dev/loop7', mountPoint: '/srv/data', fsType: 'ext4' }
const ocf = { type: 'ocf', name: 'dummy', provider: 'heartbeat', agent: 'Dummy', params: { state: '/run/x.state' } }

t.test('good specs of every type come back as checked copies', async (t) => {
  const specs = [
    { type: 'script', name: 'httpd', path: '/usr/sbin/service', args: ['httpd'] },
    { ...ocf, params: { cidr_netmask: 24, arp_bg: false, ip: '10.0.0.1' }, ocfRoot: '/opt/ocf' },
    { type: 'systemd', name: 'nginx', unit: 'nginx.service' },
    { ...ip, arping: true },
    { type: 'ip', name: 'vip6', address: 'fd77::10', prefix: 128, interface: 'bond0.100' },
    { ...fs, options: 'noatime,nodev', forceUnmount: false },
    { type: 'fs', name: 'nfs', device: 'filer:/export/web', mountPoint: '/srv/web', fsType: 'nfs4' },
  ]
  for (const spec of specs) {
    const checked = validateResourceSpec(spec, WHERE)
    t.not(checked, spec, 'a fresh object')
    t.ok(checked.type === spec.type && checked.name === spec.name, `${spec.type} ${spec.name}`)
  }
  const params = validateResourceSpec(specs[1], WHERE)
  t.same(params.type === 'ocf' && params.params, { cidr_netmask: '24', arp_bg: 'false', ip: '10.0.0.1' }, 'YAML numbers and booleans become the text the agent reads')
})

t.test('bad specs: one line, naming the field and what it got', async (t) => {
  const cases: [string, unknown, RegExp][] = [
    ['not a mapping', 'ip', /^services\.web\.resources\[1\]: must be a mapping/],
    ['unknown type', { type: 'lvm', name: 'x' }, /\.type: must be one of script, ocf, systemd, ip, fs, got "lvm"$/],
    ['missing name', { type: 'systemd', unit: 'a.service' }, /\.name: must be a non-empty string, got undefined$/],
    ['name with a space', { type: 'systemd', name: 'a b', unit: 'a.service' }, /\.name: must match/],
    ['unknown field', { ...ip, netmask: '255.0.0.0' }, /\.netmask: unknown field for a ip resource \(known: /],
    ['missing unit', { type: 'systemd', name: 'n' }, /\.unit: must be a non-empty string/],
    ['unit as an option', { type: 'systemd', name: 'n', unit: '--force' }, /\.unit: must be a systemd unit name/],
    ['relative script path', { type: 'script', name: 's', path: 'etc/init.d/httpd' }, /\.path: must be an absolute path, got "etc\/init\.d\/httpd"$/],
    ['script path with ..', { type: 'script', name: 's', path: '/etc/../bin/sh' }, /\.path: must be a normalized absolute path/],
    ['script args not strings', { type: 'script', name: 's', path: '/bin/x', args: [1] }, /\.args\[0\]: must be a string, got 1$/],
    ['bad IPv4 address', { ...ip, address: '10.77.0.300' }, /\.address: must be an IPv4 or IPv6 address, got "10\.77\.0\.300"$/],
    ['address with a zone', { ...ip, address: 'fe80::1%eth0', prefix: 64 }, /\.address: must be an IPv4 or IPv6 address/],
    ['IPv4 prefix 40', { ...ip, prefix: 40 }, /^services\.web\.resources\[1\]\.prefix: must be an integer 0\.\.32 \(IPv4\) or 0\.\.128 \(IPv6\), got 40$/],
    ['IPv6 prefix 129', { ...ip, address: 'fd00::1', prefix: 129 }, /\.prefix: .*got 129$/],
    ['prefix as text', { ...ip, prefix: '24' }, /\.prefix: .*got "24"$/],
    ['interface too long', { ...ip, interface: 'averyveryverylongname' }, /\.interface: must be an interface name of at most 15 characters/],
    ['interface with a slash', { ...ip, interface: 'eth0/1' }, /\.interface: /],
    ['interface as an option', { ...ip, interface: '-all' }, /\.interface: /],
    ['arping not boolean', { ...ip, arping: 'yes' }, /\.arping: must be true or false, got "yes"$/],
    ['ocf agent with /', { ...ocf, agent: '../../../bin/sh' }, /\.agent: must be a plain file name .*no "\/" or "\.\."/],
    ['ocf agent with ..', { ...ocf, agent: 'Dummy..x' }, /\.agent: must be a plain file name/],
    ['ocf provider with /', { ...ocf, provider: 'heart/beat' }, /\.provider: must be a plain file name/],
    ['ocf param name', { ...ocf, params: { 'bad-name': 'x' } }, /\.params\.bad-name: parameter name must match/],
    ['ocf param value', { ...ocf, params: { state: ['a'] } }, /\.params\.state: must be a string, number or boolean, got \["a"\]$/],
    ['ocf relative root', { ...ocf, ocfRoot: 'usr/lib/ocf' }, /\.ocfRoot: must be an absolute path/],
    ['fs mount point /', { ...fs, mountPoint: '/' }, /\.mountPoint: must not be "\/"$/],
    ['fs relative mount point', { ...fs, mountPoint: 'srv/data' }, /\.mountPoint: must be an absolute path/],
    ['fs device as an option', { ...fs, device: '--bind' }, /\.device: must be a device path/],
    ['fs type', { ...fs, fsType: 'ext4 -o remount' }, /\.fsType: must be a file system type/],
    ['fs options with a space', { ...fs, options: 'ro, nodev' }, /\.options: must be a mount option list/],
    ['fs forceUnmount', { ...fs, forceUnmount: 1 }, /\.forceUnmount: must be true or false, got 1$/],
  ]
  for (const [what, value, expected] of cases) {
    const message = rejection(value)
    t.match(message, expected, what)
    t.notMatch(message, /\n/, `${what}: one line`)
  }
})

t.test('called with a file and a field path, as the config readers do', async (t) => {
  try {
    validateResourceSpec({ ...ip, prefix: 33 }, '/etc/carbonado/services.yaml', 'services[0].resources[2]')
    t.fail('accepted')
  } catch (error) {
    if (!isCarbError(error)) throw error
    t.equal(error.where, '/etc/carbonado/services.yaml')
    t.equal(error.oneLine(), 'CARB_ERR_CONFIG_FIELD: /etc/carbonado/services.yaml: services[0].resources[2].prefix: must be an integer 0..32 (IPv4) or 0..128 (IPv6), got 33')
  }
})
