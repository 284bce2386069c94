/**
 * The control sockets' permissions with real users: a user in controlGroup reads status and
 * the service list through the read-only socket but cannot change anything; a user outside it
 * cannot even read; root changes through the admin socket; the read-only socket refuses a
 * change by name even to root. Users and group are created by the test and removed after.
 */
import t from 'tap'
import { execFileSync, spawnSync } from 'node:child_process'
import { chmodSync, statSync } from 'node:fs'
import { createConnection } from 'node:net'
import { CLI, TestCluster } from '../helpers/cluster.js'
import { readOnlySocketPath } from '../../src/runtime/control-access.js'
import { groupId } from '../../src/runtime/control.js'

const suffix = `${process.pid % 100000}`
const group = `carbtg${suffix}`
const reader = `carbtr${suffix}`
const outsider = `carbto${suffix}`

function as(user: string, args: string[]): { code: number; stdout: string; stderr: string } {
  // `env -i`: tap adds NODE_OPTIONS to every child it sees spawned, which would make the CLI write root's .tap/ files.
  const r = spawnSync('runuser', ['-u', user, '--', 'env', '-i', 'PATH=/usr/bin:/bin', process.execPath, CLI, ...args], { encoding: 'utf8' })
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr }
}

function ask(path: string, request: object): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path)
    let text = ''
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => { text += chunk })
    socket.on('end', () => resolve(JSON.parse(text.split('\n')[0]!) as Record<string, unknown>))
    socket.on('error', reject)
    socket.write(`${JSON.stringify(request)}\n`)
  })
}

t.test('read-only socket for the group, admin socket for root', async (t) => {
  execFileSync('groupadd', ['--system', group])
  t.teardown(() => { spawnSync('groupdel', [group]) })
  for (const [user, groups] of [[reader, ['-G', group]], [outsider, []]] as const) {
    execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', ...groups, user])
    t.teardown(() => { spawnSync('userdel', [user]) })
  }
  const c = await TestCluster.create(['a', 'b'], { topLevel: () => [`controlGroup: ${group}`] })
  t.teardown(() => c.destroy())
  chmodSync(c.dir, 0o755) // the users must reach cluster.yaml and run/
  c.startAll()
  await c.waitPeer('a', 'b', 'up', 15_000)
  const admin = `${c.dir}/run/a.sock`
  const ro = readOnlySocketPath(admin)
  t.equal(ro, `${c.dir}/run/a-ro.sock`)
  await c.waitFor('a', (l) => /control|listening|dashboard|joined/.test(l.message) || l.machine !== undefined, 5000)
  const adminStat = statSync(admin)
  const roStat = statSync(ro)
  t.equal(adminStat.mode & 0o777, 0o600, 'admin socket: root only')
  t.equal(adminStat.uid, 0)
  t.equal(roStat.mode & 0o777, 0o660, 'read-only socket: owner and group')
  t.equal(roStat.gid, await groupId(group))

  const status = as(reader, ['status', '-c', c.file, '--node', 'a'])
  t.equal(status.code, 0, `a member of ${group} reads status: ${status.stderr}`)
  t.match(status.stdout, /Cluster test, seen from a/)
  t.equal(as(reader, ['service', 'list', '-c', c.file, '--node', 'a']).code, 0, 'and the service list')
  const change = as(reader, ['service', 'add', 'web', '-c', c.file, '--node', 'a', '--domain', 'a,b', '--resource', '{type: script, name: app, path: /bin/true}'])
  t.equal(change.code, 1, 'but cannot change the cluster')
  t.match(change.stderr, /^carbonado: CARB_ERR_CONTROL_PERMISSION: .*a\.sock.*permission denied for "config-propose": changing the cluster needs root/)
  t.equal(change.stderr.trim().split('\n').length, 1, `in one line: ${change.stderr}`)

  const refused = as(outsider, ['status', '-c', c.file, '--node', 'a'])
  t.equal(refused.code, 1, 'a user outside the group cannot read')
  t.match(refused.stderr, /CARB_ERR_CONTROL_PERMISSION: .*a-ro\.sock.*permission denied for "status": reading needs root or membership of the controlGroup/)

  t.match(await ask(ro, { cmd: 'fence', target: 'b' }), { code: 'CARB_ERR_CONTROL_PERMISSION', error: /"fence" changes the cluster and is refused on the read-only socket/ }, 'the read-only socket refuses a change even to root')
  t.match(await ask(ro, { cmd: 'status' }), { node: 'a' }, 'and answers a read')
  const rootStatus = spawnSync(process.execPath, [CLI, 'fence', 'status', '-c', c.file, '--node', 'a'], { encoding: 'utf8' })
  t.equal(rootStatus.status, 0, 'root uses the admin socket')
})
