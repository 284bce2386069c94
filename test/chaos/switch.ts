/**
 * The lab's network power switch (a PDU), reached by the nodes' fence agent
 * (pdu-agent.ts) over a Unix socket in the lab's directory: a path socket reaches across
 * network namespaces, so fencing keeps working while a host's data link is down or lossy, as
 * a PDU on its own management network does. The protocol is the one of
 * test/helpers/power-switch.ts: "ACTION PLUG" in, output lines and "exit N" out.
 *
 * "off PLUG" cuts the host's power (the lab's power cut: every process of the host killed,
 * its interface down, its addresses gone) and answers once that is done; the harness alone
 * powers hosts back on ("on" is refused, as by fence_kill: the lab decides when a host
 * boots).
 */
import { switchServer } from '../helpers/switch-lines.js'

export interface SwitchCut { plug: string; atMs: number; answeredAtMs: number; code: number }

export interface PowerSwitch {
  socket: string
  cuts: SwitchCut[]
  close: () => Promise<void>
}

export interface SwitchPlugs {
  /** Known plug names (the hosts). */
  has(plug: string): boolean
  isOn(plug: string): boolean
  /** The power cut; resolves once the host is off. */
  off(plug: string): Promise<void>
}

const PLUG_PATTERN = /^[a-z0-9_-]{1,32}$/

async function answer(plugs: SwitchPlugs, cuts: SwitchCut[], action: string, plug: string): Promise<{ code: number; output: string }> {
  if (!PLUG_PATTERN.test(plug) || !plugs.has(plug)) return { code: 1, output: `Failed: no plug "${plug}" on this switch` }
  switch (action) {
    case 'off':
    case 'reboot': {
      const atMs = Date.now()
      try {
        const wasOn = plugs.isOn(plug)
        await plugs.off(plug)
        cuts.push({ plug, atMs, answeredAtMs: Date.now(), code: 0 })
        return { code: 0, output: wasOn ? `Success: Powered OFF (${plug})` : 'Success: Already OFF' }
      } catch (error) {
        cuts.push({ plug, atMs, answeredAtMs: Date.now(), code: 1 })
        return { code: 1, output: `Failed: ${(error as Error).message}` }
      }
    }
    case 'status':
      return plugs.isOn(plug) ? { code: 0, output: 'Status: ON' } : { code: 2, output: 'Status: OFF' }
    case 'monitor':
      return { code: 0, output: '' }
    default:
      return { code: 1, output: `Failed: action ${action} is not offered (the lab powers hosts on itself)` }
  }
}

export async function startSwitch(socket: string, plugs: SwitchPlugs): Promise<PowerSwitch> {
  const cuts: SwitchCut[] = []
  const { server, close } = switchServer(async (action, plug) => {
    const { code, output } = await answer(plugs, cuts, action.toLowerCase(), plug)
    return `${output === '' ? '' : `${output}\n`}exit ${code}\n`
  })
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(socket, () => resolve()) })
  return { socket, cuts, close }
}
