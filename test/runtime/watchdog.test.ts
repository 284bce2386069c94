/**
 * The hardware watchdog's rules, with regular files standing in for /dev/watchdog (these
 * machines have none): fed only when asked, magic close on a clean stop, none on abandon;
 * a device whose timeout would outlive the self-fence deadline, or cannot be checked, is refused.
 */
import t from 'tap'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Watchdog, deviceTimeoutMs } from '../../src/runtime/watchdog.js'

t.test('feeds are written, a clean stop writes the magic close and nothing after it', async (t) => {
  const dir = t.testdir({})
  const device = join(dir, 'watchdog0')
  await writeFile(device, '')
  const dog = await Watchdog.open(device, 8000, join(dir, 'no-sysfs'))
  await dog.feed(); await dog.feed(); await dog.feed()
  t.equal(await readFile(device, 'utf8'), '111')
  t.equal(dog.counters.feeds, 3)
  await dog.disarm()
  await dog.feed()
  t.equal(await readFile(device, 'utf8'), '111V', 'disarmed with V, then never fed again')
})

t.test('abandon stops feeding without the magic close, so the hardware fires', async (t) => {
  const dir = t.testdir({})
  const device = join(dir, 'watchdog0')
  await writeFile(device, '')
  const dog = await Watchdog.open(device, 8000, join(dir, 'no-sysfs'))
  await dog.feed()
  await dog.abandon()
  await dog.feed()
  t.equal(await readFile(device, 'utf8'), '1')
})

t.test('the device timeout must end before the self-fence deadline', async (t) => {
  const dir = t.testdir({})
  const sysfs = join(dir, 'sys')
  for (const [name, seconds] of [['slow0', '10'], ['fast0', '5']] as const) {
    await mkdir(join(sysfs, name), { recursive: true })
    await writeFile(join(sysfs, name, 'timeout'), `${seconds}\n`)
    await writeFile(join(dir, name), '')
  }
  t.equal(await deviceTimeoutMs(join(dir, 'slow0'), sysfs), 10_000)
  await t.rejects(Watchdog.open(join(dir, 'slow0'), 8000, sysfs), { code: 'CARB_ERR_WATCHDOG', message: /timeout 10000 ms is not below timing.selfFenceAfterMs 8000/ })
  t.equal(await readFile(join(dir, 'slow0'), 'utf8'), 'V', 'a refused device is disarmed at once')
  const ok = await Watchdog.open(join(dir, 'fast0'), 8000, sysfs)
  await ok.disarm()
})

t.test('a character device with no watchdog timeout to check is refused; a missing one too', async (t) => {
  await t.rejects(Watchdog.open('/dev/null', 8000, t.testdir({})), { code: 'CARB_ERR_WATCHDOG', message: /timeout cannot be read/ })
  await t.rejects(Watchdog.open('/nonexistent/watchdog', 8000), { code: 'CARB_ERR_WATCHDOG', message: /cannot open the watchdog \(ENOENT\)/ })
})
