/** Service definitions and the administrator's edits: defaults, one-line named errors, no change on bad input. */
import t from 'tap'
import { EMPTY_SERVICES, readServicesDoc, type ServicesDoc } from '../../src/config/services.js'
import { addService, deleteService, modifyService, relocateService, restartService, setEnabled } from '../../src/config/service-edit.js'

const ctx = { where: 'service add', nodeNames: ['a', 'b', 'c'], maxServices: 4 }
const apache = {
  name: 'web', domain: ['a', 'b'],
  resources: [
    { type: 'fs', name: 'data', device: '/dev/sda1', mountPoint: '/var/www', fsType: 'ext4' },
    { type: 'ip', name: 'vip', address: '192.168.1.101', prefix: 24, interface: 'eth0' },
    { type: 'script', name: 'httpd', path: '/etc/init.d/httpd', stopTimeoutMs: 30_000 },
  ],
}

const oneLine = (e: unknown): boolean => String((e as Error).message).split('\n').length === 1

t.test('Kimberlite\'s Apache service: defaults filled in, index assigned, resources kept in order', async (t) => {
  const doc = addService(EMPTY_SERVICES, apache, ctx)
  t.equal(doc.version, 0, 'the store, not the edit, assigns the version')
  const web = doc.services[0]!
  t.match(web, { name: 'web', index: 0, enabled: true, failback: true, failbackStableMs: 30_000, relocateTo: null, restartGeneration: 0, domain: ['a', 'b'] })
  t.same(web.recovery, { policy: 'restart-then-relocate', maxRestarts: 3, windowMs: 600_000 })
  t.same(web.resources.map((r) => r.name), ['data', 'vip', 'httpd'])
  t.match(web.resources[2], { monitorIntervalMs: 10_000, startTimeoutMs: 60_000, stopTimeoutMs: 30_000, monitorTimeoutMs: 20_000 })
  const db = addService(doc, { ...apache, name: 'db', domain: ['b', 'a'] }, ctx)
  t.same(db.services.map((s) => s.index), [0, 1], 'the lowest free index')
  const freed = addService(deleteService(setEnabled(db, 'web', false, ctx), 'web', ctx), { ...apache, name: 'mail' }, ctx)
  t.same(freed.services.map((s) => [s.name, s.index]), [['db', 1], ['mail', 0]], 'a deleted service frees its index')
})

t.test('bad definitions are refused with one line naming the field', async (t) => {
  const bad: [string, Record<string, unknown>, RegExp][] = [
    ['unknown node in the domain', { ...apache, domain: ['a', 'x'] }, /service\.domain\[1\]: no node named "x"/],
    ['node twice in the domain', { ...apache, domain: ['a', 'a'] }, /service\.domain\[1\]: node "a" is listed twice/],
    ['empty domain', { ...apache, domain: [] }, /service\.domain: must have 1 to 3 entries/],
    ['bad name', { ...apache, name: 'Web Server' }, /service\.name: must be lower-case/],
    ['no resources', { ...apache, resources: [] }, /service\.resources: must have 1 to 16/],
    ['duplicate resource name', { ...apache, resources: [apache.resources[2], apache.resources[2]] }, /resources\[1\]\.name: "httpd" is used twice/],
    ['timeout too small', { ...apache, resources: [{ ...apache.resources[2], stopTimeoutMs: 5 }] }, /resources\[0\]\.stopTimeoutMs: must be an integer from 100/],
    ['unknown policy', { ...apache, recovery: { policy: 'pray' } }, /service\.recovery\.policy: must be one of restart-then-relocate, relocate, disable/],
    ['unknown field', { ...apache, colour: 'blue' }, /colour: unknown field/],
    ['relocation outside the domain', { ...apache, relocateTo: 'c' }, /relocateTo: "c" is not in the failover domain/],
    ['failback not a boolean', { ...apache, failback: 'yes' }, /service\.failback: must be true or false/],
  ]
  for (const [name, definition, message] of bad) {
    t.test(name, async (t) => {
      const before = JSON.stringify(EMPTY_SERVICES)
      t.throws(() => addService(EMPTY_SERVICES, definition, ctx), { code: 'CARB_ERR_CONFIG_FIELD', message })
      try { addService(EMPTY_SERVICES, definition, ctx) } catch (e) { t.ok(oneLine(e), 'one line') }
      t.equal(JSON.stringify(EMPTY_SERVICES), before, 'nothing changed')
    })
  }
})

t.test('edits: each returns a new document and leaves the old one as it was', async (t) => {
  const doc: ServicesDoc = addService(EMPTY_SERVICES, apache, ctx)
  const snapshot = JSON.stringify(doc)
  t.equal(modifyService(doc, 'web', { failback: false }, ctx).services[0]!.failback, false)
  t.same(modifyService(doc, 'web', { recovery: { maxRestarts: 1 } }, ctx).services[0]!.recovery, { policy: 'restart-then-relocate', maxRestarts: 1, windowMs: 600_000 }, 'recovery fields merge')
  t.throws(() => modifyService(doc, 'web', { name: 'www' }, ctx), { message: /cannot be renamed/ })
  t.throws(() => modifyService(doc, 'nope', {}, ctx), { code: 'CARB_ERR_SERVICE_UNKNOWN', message: /no service named "nope".*services: web/ })
  t.throws(() => addService(doc, apache, ctx), { code: 'CARB_ERR_SERVICE_EXISTS' })
  t.throws(() => deleteService(doc, 'web', ctx), { code: 'CARB_ERR_SERVICE_ENABLED', message: /disable it first/ })
  t.throws(() => setEnabled(doc, 'web', true, ctx), { code: 'CARB_ERR_SERVICE_UNCHANGED' })
  t.equal(restartService(doc, 'web', ctx).services[0]!.restartGeneration, 1)
  t.equal(JSON.stringify(doc), snapshot, 'the input document is untouched')
})

t.test('relocate: to a named node of the domain, or to the next one after the owner', async (t) => {
  const doc = addService(EMPTY_SERVICES, { ...apache, domain: ['a', 'b', 'c'] }, ctx)
  t.equal(relocateService(doc, 'web', 'c', 'a', ctx).services[0]!.relocateTo, 'c')
  t.equal(relocateService(doc, 'web', null, 'a', ctx).services[0]!.relocateTo, 'b')
  t.equal(relocateService(doc, 'web', null, 'c', ctx).services[0]!.relocateTo, 'a', 'wraps around')
  t.throws(() => relocateService(doc, 'web', 'a', 'a', ctx), { code: 'CARB_ERR_SERVICE_UNCHANGED' })
  const narrow = addService(EMPTY_SERVICES, { ...apache, domain: ['a', 'b'] }, ctx)
  t.throws(() => relocateService(narrow, 'web', 'c', 'a', ctx), { code: 'CARB_ERR_SERVICE_RELOCATE', message: /not in the failover domain/ })
  const single = addService(EMPTY_SERVICES, { ...apache, domain: ['a'] }, ctx)
  t.throws(() => relocateService(single, 'web', null, 'a', ctx), { code: 'CARB_ERR_SERVICE_RELOCATE', message: /no other node/ })
  t.equal(modifyService(relocateService(doc, 'web', 'c', 'a', ctx), 'web', { failback: false }, ctx).services[0]!.relocateTo, null, 'modify clears a standing relocation')
})

t.test('a whole document (disk or backup file) is checked as a whole', async (t) => {
  const doc = addService(addService(EMPTY_SERVICES, apache, ctx), { ...apache, name: 'db' }, ctx)
  t.same(readServicesDoc('backup.yaml', JSON.parse(JSON.stringify({ ...doc, version: 7 })), ctx.nodeNames, 4), { ...doc, version: 7 })
  const clash = { ...doc, services: [doc.services[0], { ...doc.services[1], index: 0 }] }
  t.throws(() => readServicesDoc('backup.yaml', clash, ctx.nodeNames, 4), { message: /services\[1\]\.index: 0 is used by "web" too/ })
  t.throws(() => readServicesDoc('backup.yaml', { ...doc, v: 2 }, ctx.nodeNames, 4), { message: /^v: configuration format 2/ })
  t.throws(() => readServicesDoc('backup.yaml', { ...doc, services: [doc.services[0], doc.services[0]] }, ctx.nodeNames, 4), { message: /defined twice/ })
  t.throws(() => readServicesDoc('backup.yaml', { ...doc, services: [{ ...doc.services[0], index: 4 }] }, ctx.nodeNames, 4), { message: /index: must be an integer from 0 to 3/ })
})

// Found by test/fuzz/disk-blocks.test.ts: a configuration document on the disk holding a u64
// (msgpack decodes it as a BigInt) made the field readers throw a TypeError while naming it.
t.test('a value JSON cannot print (a BigInt from the disk) is refused by name, never thrown', async (t) => {
  const service = { name: 'web', index: 0, domain: ['a'], resources: [{ type: 'script', name: 1n << 63n, path: '/x' }] }
  t.throws(() => readServicesDoc('disk', { v: 2n, version: 1, services: [] }, [], 4), { code: 'CARB_ERR_CONFIG_FIELD', message: /configuration format 2,/ })
  t.throws(() => readServicesDoc('disk', { v: 1, version: 1, services: [service] }, [], 4), { code: 'CARB_ERR_CONFIG_FIELD', message: /resources\[0\]\.name: .* got 9223372036854775808/ })
  t.throws(() => readServicesDoc('disk', { v: 1, version: 1, services: [{ ...service, enabled: 1n }] }, [], 4), { code: 'CARB_ERR_CONFIG_FIELD' })
})
