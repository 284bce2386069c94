/** carbonado install into a temporary --root: dry run, real run, second run, kept key and config, foreign unit. */
import t, { type Test } from 'tap'
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { realpathSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CLI, runCli } from '../helpers/cluster.js'
import { execCommand, renderUnit } from '../../src/install/unit.js'
import { renderExampleConfig } from '../../src/install/example-config.js'
import { CONFIG_REFERENCE, parseConfig } from '../../src/config/load.js'
import { loadKeyFile } from '../../src/net/key-file.js'

const PATHS = ['/etc/carbonado', '/etc/carbonado/cluster.yaml.example', '/etc/carbonado/authkey', '/var/lib/carbonado', '/var/lib/carbonado/journal', '/etc/systemd/system/carbonado.service']

/** An empty directory; with `etc`, the two files groupadd --prefix needs. */
async function tempRoot(t: Test, etc: boolean): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'carbonado-install-'))
  t.teardown(() => rm(root, { recursive: true, force: true }))
  if (etc) {
    await mkdir(join(root, 'etc'))
    await writeFile(join(root, 'etc/group'), 'root:x:0:\n')
    await writeFile(join(root, 'etc/gshadow'), 'root:*::\n', { mode: 0o640 })
  }
  return root
}

function gidIn(groupFile: string, name: string): number {
  const line = groupFile.split('\n').find((l) => l.startsWith(`${name}:`))
  if (line === undefined) throw new Error(`no group ${name}`)
  return Number(line.split(':')[2])
}

/** The step lines ("status  what (detail)") as [status, what]. */
function steps(stdout: string): Array<[string, string]> {
  return stdout.split('\n').flatMap((line) => {
    const m = /^(created|updated|ok|done|skipped|would create|would update|would run) +(.+?)(?: \(|$)/.exec(line)
    return m === null ? [] : [[m[1] ?? '', m[2] ?? ''] as [string, string]]
  })
}

t.test('--dry-run lists every step and changes nothing', async (t) => {
  const root = await tempRoot(t, false)
  const r = runCli(['install', '--dry-run', '--root', root])
  t.equal(r.code, 0, r.stderr)
  t.match(r.stdout, /^dry run: nothing is changed/)
  t.match(r.stdout, /^would create +group cluster/m)
  for (const path of PATHS) t.match(r.stdout, new RegExp(`^would create +${path} `, 'm'), path)
  t.match(r.stdout, /^skipped +systemctl daemon-reload/m)
  t.same(await readdir(root), [], 'the root is still empty')
})

t.test('a real run creates everything with its mode and owner; a second run finds everything ok', async (t) => {
  const root = await tempRoot(t, true)
  const first = runCli(['install', '--root', root])
  t.equal(first.code, 0, first.stderr)
  for (const path of PATHS) t.match(first.stdout, new RegExp(`^created +${path} `, 'm'), path)
  const gid = gidIn(await readFile(join(root, 'etc/group'), 'utf8'), 'cluster')
  t.match(first.stdout, new RegExp(`^created +group cluster \\(gid ${gid}\\)`, 'm'))
  const want: Record<string, [number, number]> = {
    '/etc/carbonado': [0o750, gid], '/etc/carbonado/cluster.yaml.example': [0o640, gid], '/etc/carbonado/authkey': [0o600, 0],
    '/var/lib/carbonado': [0o750, gid], '/var/lib/carbonado/journal': [0o750, gid], '/etc/systemd/system/carbonado.service': [0o644, 0],
  }
  for (const [path, [mode, group]] of Object.entries(want)) {
    const info = await stat(join(root, path))
    t.equal((info.mode & 0o7777).toString(8), mode.toString(8), `${path} mode`)
    t.same([info.uid, info.gid], [0, group], `${path} owner root:${group}`)
  }
  t.equal((await loadKeyFile(join(root, 'etc/carbonado/authkey'))).length, 64, 'a key the node accepts')
  t.equal(await readFile(join(root, 'etc/systemd/system/carbonado.service'), 'utf8'), renderUnit(execCommand([process.execPath, realpathSync(CLI)])))
  t.match(first.stdout, /^next: cp \/etc\/carbonado\/cluster\.yaml\.example/m)
  const second = runCli(['install', '--root', root])
  t.equal(second.code, 0, second.stderr)
  const found = steps(second.stdout)
  t.equal(found.length, 8, second.stdout)
  for (const [status, what] of found) t.equal(status, 'ok', `${what} ok on the second run`)
})

t.test('an existing key and cluster.yaml are kept; a changed unit and modes are put back', async (t) => {
  const root = await tempRoot(t, true)
  await mkdir(join(root, 'etc/carbonado'), { recursive: true, mode: 0o755 })
  await writeFile(join(root, 'etc/carbonado/authkey'), 'ab'.repeat(40) + '\n', { mode: 0o600 })
  await writeFile(join(root, 'etc/carbonado/cluster.yaml'), 'cluster: mine\n')
  const r = runCli(['install', '--root', root])
  t.equal(r.code, 0, r.stderr)
  t.match(r.stdout, /^ok +\/etc\/carbonado\/authkey \(already there, kept/m)
  t.match(r.stdout, /^updated +\/etc\/carbonado \(0750 root:cluster; was 0755 0:0\)/m)
  t.match(r.stdout, /^\/etc\/carbonado\/cluster\.yaml is there \(kept\)/m)
  t.equal(await readFile(join(root, 'etc/carbonado/authkey'), 'utf8'), 'ab'.repeat(40) + '\n', 'the key is the old one')
  t.equal(await readFile(join(root, 'etc/carbonado/cluster.yaml'), 'utf8'), 'cluster: mine\n', 'cluster.yaml untouched')
  const unitPath = join(root, 'etc/systemd/system/carbonado.service')
  await writeFile(unitPath, (await readFile(unitPath, 'utf8')).replace('RestartSec=2s', 'RestartSec=1s'))
  const dry = runCli(['install', '--root', root, '--dry-run'])
  t.match(dry.stdout, /^would update +\/etc\/systemd\/system\/carbonado\.service \(0644 root:root; content differs\)/m)
  t.match(await readFile(unitPath, 'utf8'), /RestartSec=1s/, 'the dry run left it')
  const again = runCli(['install', '--root', root])
  t.match(again.stdout, /^updated +\/etc\/systemd\/system\/carbonado\.service/m)
  t.match(again.stdout, /^skipped +systemctl daemon-reload \(--root /m)
  t.match(await readFile(unitPath, 'utf8'), /RestartSec=2s/)
})

t.test('a carbonado.service someone else wrote is replaced only with --force', async (t) => {
  const root = await tempRoot(t, true)
  const unitPath = join(root, 'etc/systemd/system/carbonado.service')
  await mkdir(join(root, 'etc/systemd/system'), { recursive: true })
  await writeFile(unitPath, '[Service]\nExecStart=/usr/local/bin/my-carbonado\n')
  const r = runCli(['install', '--root', root])
  t.equal(r.code, 1)
  t.equal(r.stderr.trim().split('\n').length, 1)
  t.match(r.stderr, /^carbonado: CARB_ERR_INSTALL_STEP: .*carbonado\.service: exists and was not written by `carbonado install`; keep it, or replace it with --force/)
  t.match(await readFile(unitPath, 'utf8'), /my-carbonado/, 'kept')
  const forced = runCli(['install', '--root', root, '--force'])
  t.equal(forced.code, 0, forced.stderr)
  t.match(forced.stdout, /^updated +\/etc\/systemd\/system\/carbonado\.service/m)
})

t.test('--group names the group; a root without /etc/group is refused in one line', async (t) => {
  const root = await tempRoot(t, true)
  const r = runCli(['install', '--root', root, '--group', 'hagroup'])
  t.equal(r.code, 0, r.stderr)
  const gid = gidIn(await readFile(join(root, 'etc/group'), 'utf8'), 'hagroup')
  t.equal((await stat(join(root, 'var/lib/carbonado'))).gid, gid)
  const bare = await tempRoot(t, false)
  const e = runCli(['install', '--root', bare])
  t.equal(e.code, 1)
  t.match(e.stderr, /^carbonado: CARB_ERR_INSTALL_STEP: .*etc\/group: missing: groupadd needs the group file/)
  t.equal(e.stderr.trim().split('\n').length, 1)
})

t.test('the example config loads as it is and names every field with its default', async (t) => {
  const text = renderExampleConfig()
  const config = parseConfig(text, '/etc/carbonado/cluster.yaml')
  t.same(config.nodes.map((n) => n.name), ['node1', 'node2'])
  for (const entry of CONFIG_REFERENCE) t.ok(text.includes(`# ${entry.field}   [default: ${entry.default}]`), entry.field)
  const uncommented = text.replace(/^# (timing|fencing):$/gm, '$1:').replace(/^#( {3}\w+: \d+)$/gm, '$1').replace('    # fence:', '    fence:')
  const tuned = parseConfig(uncommented, '/etc/carbonado/cluster.yaml')
  t.equal(tuned.timing.selfFenceAfterMs, 8000, 'the commented timing block loads once uncommented')
  t.equal(tuned.nodes[0]?.fence.length, 1, 'and so does the commented fence line')
})
