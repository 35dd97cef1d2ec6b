// The service processor's command line (an ILOM subset), as `ldoms sp HOST ...` offers it:
//   show /HOST | show /SP/powermgmt | show /HOST/bootmode
//   set /SP/powermgmt policy=Performance|Elastic|Disabled
//   set /HOST/bootmode config=NAME
//   start /SYS | stop /SYS | reset /SYS
// Pure: it returns the new state and the text to print; the machine process applies both.

import type { PmPolicy } from '../manager/types.js';
import { powerOff, powerOn } from './hypervisor.js';
import type { MachineState } from './types.js';

export interface SpResult {
  state: MachineState;
  output: string;
  /** Non-zero when the command failed. */
  status: number;
}

const POLICIES: Record<string, PmPolicy> = { performance: 'performance', elastic: 'elastic', disabled: 'disabled' };
const POLICY_NAMES: Record<PmPolicy, string> = { performance: 'Performance', elastic: 'Elastic', disabled: 'Disabled' };

function hostStatus(s: MachineState): string {
  if (s.poweredOff) return 'Powered off';
  const primary = s.domains.find((d) => d.name === 'primary');
  return primary?.runtime?.softstate ?? 'Powered on';
}

function err(state: MachineState, text: string): SpResult {
  return { state, output: `${text}\n`, status: 1 };
}

export function spCommand(state: MachineState, argv: string[], now: number): SpResult {
  const [verb, target, ...rest] = argv;
  const t = (target ?? '').replace(/\/+$/, '');
  switch (verb) {
    case 'show': {
      if (t === '/HOST' || t === '/SYS' || t === '') {
        const lines = [
          '',
          ` ${t || '/HOST'}`,
          '    Properties:',
          `        status = ${hostStatus(state)}`,
          `        bootmode/config = ${state.sp.nextPoweron}`,
          `        sysfw_version = Sun System Firmware ${state.platform.firmware.sysfw}`,
          `        hypervisor_version = Hypervisor ${state.platform.firmware.hypervisor}`,
          `        obp_version = ${/^(OpenBoot|OBP)/.test(state.platform.firmware.openboot) ? '' : 'OpenBoot '}${state.platform.firmware.openboot}`,
          '',
          '    Commands:',
          '        cd',
          '        set',
          '        show',
          '        start',
          '        stop',
          '        reset',
          '',
        ];
        return { state, output: lines.join('\n') + '\n', status: 0 };
      }
      if (t === '/SP/powermgmt') {
        return { state, output: `\n /SP/powermgmt\n    Properties:\n        policy = ${POLICY_NAMES[state.sp.pmPolicy]}\n\n`, status: 0 };
      }
      if (t === '/HOST/bootmode') {
        return { state, output: `\n /HOST/bootmode\n    Properties:\n        config = ${state.sp.nextPoweron}\n        state = normal\n\n`, status: 0 };
      }
      return err(state, `show: Invalid target ${target ?? ''}`);
    }
    case 'set': {
      const [prop, ...extra] = rest;
      if (!prop || extra.length) return err(state, 'set: Syntax error: set <target> <property>=<value>');
      const eq = prop.indexOf('=');
      if (eq <= 0) return err(state, `set: Syntax error in ${prop}`);
      const key = prop.slice(0, eq);
      const value = prop.slice(eq + 1);
      if (t === '/SP/powermgmt' && key === 'policy') {
        const p = POLICIES[value.toLowerCase()];
        if (!p) return err(state, `set: Invalid value "${value}" for property "policy" (Performance, Elastic, Disabled)`);
        return { state: { ...state, sp: { ...state.sp, pmPolicy: p } }, output: `Set 'policy' to '${POLICY_NAMES[p]}'\n`, status: 0 };
      }
      if (t === '/HOST/bootmode' && key === 'config') {
        if (!state.sp.configs.some((c) => c.name === value)) return err(state, `set: Configuration "${value}" does not exist on the service processor`);
        return { state: { ...state, sp: { ...state.sp, nextPoweron: value } }, output: `Set 'config' to '${value}'\n`, status: 0 };
      }
      return err(state, `set: Invalid property "${key}" for target ${target ?? ''}`);
    }
    case 'start':
      if (t !== '/SYS') return err(state, `start: Invalid target ${target ?? ''}`);
      if (!state.poweredOff) return err(state, 'start: Target already started');
      return { state: powerOn(state, now), output: 'Starting /SYS\n', status: 0 };
    case 'stop':
      if (t !== '/SYS') return err(state, `stop: Invalid target ${target ?? ''}`);
      if (state.poweredOff) return err(state, 'stop: Target already stopped');
      return { state: powerOff(state), output: 'Stopping /SYS\n', status: 0 };
    case 'reset':
      if (t !== '/SYS') return err(state, `reset: Invalid target ${target ?? ''}`);
      if (state.poweredOff) return err(state, 'reset: Target is powered off (use start /SYS)');
      return { state: powerOn(state, now), output: 'Performing reset on /SYS\n', status: 0 };
    case undefined:
      return err(state, 'usage: ldoms sp HOST (show|set|start|stop|reset) TARGET [property=value]');
    default:
      return err(state, `${verb}: command not found`);
  }
}
