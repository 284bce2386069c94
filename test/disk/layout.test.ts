import t from 'tap'
import { blockIndex, blockOffset, configSlot, copyBlocks, geometryProblem, geometryWithDefaults, leaseSlot, requiredBytes, type BlockKind, type Geometry } from '../../src/disk/layout.js'

const g: Geometry = { blockSize: 512, maxNodes: 4, maxServices: 3, configBlocks: 2 }

t.test('one copy: header, status, mailbox, lease, config, scratch; the shadow follows', async (t) => {
  // lease: (3 services + the config register) * 4 nodes; config: 4 nodes * 2 buffers * 2 blocks
  t.equal(copyBlocks(g), 1 + 4 + 4 + 16 + 16 + 4)
  t.equal(requiredBytes(g), 2 * 45 * 512)
  // [kind, slot, block index within the copy]
  const table: [BlockKind, number, number][] = [
    ['header', 0, 0], ['status', 1, 1], ['status', 4, 4], ['mailbox', 1, 5], ['mailbox', 4, 8],
    ['lease', 0, 9], ['lease', 15, 24], ['config', 0, 25], ['config', 15, 40], ['scratch', 1, 41], ['scratch', 4, 44],
  ]
  for (const [kind, slot, index] of table) {
    t.equal(blockIndex(g, kind, slot), index, `${kind} ${slot}`)
    t.equal(blockOffset(g, 0, kind, slot), index * 512, `${kind} ${slot} primary`)
    t.equal(blockOffset(g, 1, kind, slot), (45 + index) * 512, `${kind} ${slot} shadow`)
  }
})

t.test('slots outside their range are refused', async (t) => {
  for (const [kind, slot] of [['status', 0], ['status', 5], ['lease', 16], ['config', -1], ['config', 16], ['scratch', 1.5], ['header', 1]] as [BlockKind, number][]) {
    t.throws(() => blockIndex(g, kind, slot), { code: 'CARB_ERR_USAGE' }, `${kind} ${slot}`)
  }
})

t.test('defaults and limits', async (t) => {
  t.same(geometryWithDefaults(), { blockSize: 4096, maxNodes: 16, maxServices: 64, configBlocks: 16 })
  t.equal(requiredBytes(geometryWithDefaults()), 2 * (1 + 48 + 65 * 16 + 16 * 2 * 16) * 4096)
  t.match(geometryProblem({ ...g, blockSize: 1024 as 512 }), /blockSize/)
  t.match(geometryProblem({ ...g, maxNodes: 65 }), /maxNodes/)
  t.match(geometryProblem({ ...g, maxServices: 0 }), /maxServices/)
  t.match(geometryProblem({ ...g, configBlocks: 65 }), /configBlocks/)
  t.match(geometryProblem({ ...g, maxServices: 257 }), /maxServices/)
  t.throws(() => geometryWithDefaults({ maxNodes: 0 }), { code: 'CARB_ERR_USAGE' })
})

t.test('each node has its own ballot block in every lease register and its own two config buffers', async (t) => {
  // register r, node n → slot r * maxNodes + n - 1: the config register 0 first, then one per service
  t.same([leaseSlot(g, 0, 1), leaseSlot(g, 0, 4), leaseSlot(g, 1, 1), leaseSlot(g, 3, 4)], [0, 3, 4, 15])
  // node n, buffer b, part p → ((n - 1) * 2 + b) * configBlocks + p
  t.same([configSlot(g, 1, 0, 0), configSlot(g, 1, 1, 1), configSlot(g, 2, 0, 0), configSlot(g, 4, 1, 1)], [0, 3, 4, 15])
  const all = new Set<number>()
  for (let r = 0; r <= g.maxServices; r++) for (let n = 1; n <= g.maxNodes; n++) all.add(leaseSlot(g, r, n))
  t.equal(all.size, 16, 'no two (register, node) pairs share a block')
  t.throws(() => leaseSlot(g, 4, 1), { code: 'CARB_ERR_USAGE' })
  t.throws(() => leaseSlot(g, 0, 5), { code: 'CARB_ERR_USAGE' })
  t.throws(() => configSlot(g, 0, 0, 0), { code: 'CARB_ERR_USAGE' })
  t.throws(() => configSlot(g, 1, 0, 2), { code: 'CARB_ERR_USAGE' })
})
