// Every subcommand tried with bad input: missing, extra and malformed operands, unknown domains
// and services, out-of-range sizes, names that break the naming rules, duplicates and wrong
// states. Each must fail with one clear message on stderr, nothing on stdout, a non-zero exit, and
// leave the host exactly as it was (ldm-cli.md §1.1, §2.4, §7). Cases run over ldmd's socket as
// the `ldm` binary speaks to it; a sample, and all that read a file, run through the binary too.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { COMMANDS } from '../src/commands/table.js';
import { BIN, TestHome, type RunResult } from './helpers/hosts.js';
import { rawLdm } from './helpers/raw-ldm.js';

const home = new TestHome('ldoms-bad-input-');
const H = 'bad';
/** A T4 has no crypto units a domain can be given (platforms.md); its control domain waits in a
 *  delayed reconfiguration throughout. */
const T4 = 'badt4';

const LONG = 'a'.repeat(300);
const LONG_CFG = 'c'.repeat(65);
const MANUAL_MAC = '00:14:4f:fc:00:01';
const disk = path.join(home.home, 'disk0.img');
const badXml = path.join(home.home, 'bad.xml');
const ldg1Xml = path.join(home.home, 'ldg1.xml');
const halfXml = path.join(home.home, 'half.xml');

interface Case {
  argv: string[];
  /** Text the message must contain; the vendor's own words where scripts match them (§7.1). */
  expect?: RegExp;
  host?: string;
}

/** `c('add-vcpu 1 nosuch', /not found/)`: arguments are split on single spaces. */
const c = (line: string, expect?: RegExp, host?: string): Case => ({ argv: line.split(' '), expect, host });

const NOT_FOUND = /^LDom nosuch not found$/m;
const BAD_NAME = (kind: string) => new RegExp(`^Invalid ${kind} name: `);
const INACTIVE_ONLY = /must be (stopped and )?unbound/;

/**
 * One invocation per subcommand that parses correctly; the generic cases (unknown option,
 * unknown property, missing and extra operands) are derived from it.
 */
const TEMPLATE: Record<string, string[]> = {
  'add-domain': ['newdom'],
  'set-domain': ['failure-policy=stop', 'ldg1'],
  'remove-domain': ['bigmem'],
  'bind-domain': ['bigcpu'],
  'unbind-domain': ['ldg2'],
  'start-domain': ['ldg2'],
  'stop-domain': ['ldg3'],
  'panic-domain': ['ldg3'],
  'add-vcpu': ['1', 'ldg1'],
  'set-vcpu': ['1', 'ldg1'],
  'remove-vcpu': ['1', 'ldg1'],
  'add-crypto': ['1', 'ldg1'],
  'set-crypto': ['1', 'ldg1'],
  'remove-crypto': ['1', 'ldg1'],
  'add-memory': ['1G', 'ldg1'],
  'set-memory': ['1G', 'ldg1'],
  'remove-memory': ['1G', 'ldg1'],
  'start-reconf': ['primary'],
  'cancel-reconf': ['primary'],
  'cancel-operation': ['reconf', 'primary'],
  'migrate-domain': ['-n', 'ldg1', 'root@nohost'],
  'add-io': ['pci@400', 'ldg1'],
  'remove-io': ['pci@400', 'primary'],
  'list-io': [],
  'add-vsw': ['sw9', 'primary'],
  'set-vsw': ['mtu=1600', 'primary-vsw0'],
  'remove-vsw': ['primary-vsw0'],
  'add-vnet': ['vnet2', 'primary-vsw0', 'ldg1'],
  'set-vnet': ['mtu=1600', 'vnet1', 'ldg1'],
  'remove-vnet': ['vnet1', 'ldg1'],
  'add-vds': ['vds9', 'primary'],
  'remove-vds': ['primary-vds0'],
  'add-vdsdev': [disk, 'vol9@primary-vds0'],
  'set-vdsdev': ['options=ro', 'vol1@primary-vds0'],
  'remove-vdsdev': ['vol1@primary-vds0'],
  'add-vdisk': ['vdisk2', 'vol1@primary-vds0', 'ldg1'],
  'set-vdisk': ['timeout=5', 'vdisk1', 'ldg1'],
  'remove-vdisk': ['vdisk1', 'ldg1'],
  'add-vcc': ['port-range=7000-7010', 'vcc9', 'primary'],
  'set-vcc': ['port-range=6000-6020', 'primary-vcc1'],
  'remove-vcc': ['primary-vcc1'],
  'set-vcons': ['port=5050', 'ldg1'],
  'add-vdpcs': ['dpcs9', 'primary'],
  'remove-vdpcs': ['dpcs0'],
  'add-vdpcc': ['cc9', 'dpcs0', 'ldg1'],
  'remove-vdpcc': ['cc1', 'ldg1'],
  'add-policy': ['name=p9', 'ldg1'],
  'set-policy': ['name=p1', 'priority=5', 'ldg1'],
  'remove-policy': ['p1', 'ldg1'],
  'add-variable': ['boot-device=disk', 'ldg1'],
  'set-variable': ['boot-device=disk', 'ldg1'],
  'remove-variable': ['auto-boot?', 'ldg1'],
  'list-variable': ['ldg1'],
  'add-spconfig': ['cfg2'],
  'set-spconfig': ['cfg1'],
  'remove-spconfig': ['cfg1'],
  'list-spconfig': [],
  'list-domain': [],
  'list-bindings': [],
  'list-services': [],
  'list-constraints': [],
  'list-devices': ['cpu', 'crypto', 'memory', 'io'],
};

/** The cases particular to each subcommand. */
const CASES: Record<string, Case[]> = {
  'add-domain': [
    c('add-domain', /Missing domain name/),
    c('add-domain failure-policy=stop newdom extra', /one domain only/),
    c(`add-domain -i ${ldg1Xml} extra`, /takes no other arguments/),
    c('add-domain -bad', /Invalid option: -bad/),
    c('add-domain -- -bad', BAD_NAME('domain')),
    c('add-domain a/b', BAD_NAME('domain')),
    c('add-domain é', BAD_NAME('domain')),
    c(`add-domain ${LONG}`, BAD_NAME('domain')),
    c('add-domain ldg1', /^LDom ldg1 already exists$/),
    c('add-domain primary', /already exists/),
    c('add-domain newdom newdom', /given more than once/),
    c('add-domain newdom ldg1', /already exists/),
    c('add-domain mac-addr=zz newdom', /Invalid MAC address/),
    c('add-domain mac-addr=00:14:4f:fc:00:0g newdom', /Invalid MAC address/),
    c('add-domain mac-addr=00:14:4f:f8:00:01 newdom', /automatic allocation/),
    c(`add-domain mac-addr=${MANUAL_MAC} newdom`, /already in use/),
    c('add-domain hostid=xyz newdom', /Invalid hostid/),
    c('add-domain hostid=-1 newdom', /Invalid hostid/),
    c('add-domain hostid=0x1234567890 newdom', /Invalid hostid/),
    c('add-domain hostid=1.5 newdom', /Invalid hostid/),
    c('add-domain failure-policy=bogus newdom', /Invalid failure-policy/),
    c('add-domain failure-policy= newdom', /Invalid failure-policy/),
    c('add-domain master=newdom newdom', /own master/),
    c('add-domain master=nosuch newdom', NOT_FOUND),
    c('add-domain master=ldg1,ldg2,ldg3,bigcpu,bigmem newdom', /at most 4 masters/),
    c('add-domain master=ldg1,ldg1 newdom', /more than once/),
    c('add-domain -i /nonexistent', /Cannot read \/nonexistent/),
    c(`add-domain -i ${home.home}`, /Cannot read/),
    c(`add-domain -i ${badXml}`, /not well-formed XML/),
    c(`add-domain -i ${ldg1Xml}`, /already exists/),
    c(`add-domain -i ${halfXml}`, /Virtual switch nosuch-vsw does not exist/),
  ],
  'set-domain': [
    c('set-domain', /Missing domain name/),
    c('set-domain ldg1', /Nothing to set/),
    c('set-domain failure-policy=stop nosuch', NOT_FOUND),
    c(`set-domain -i ${badXml} ldg1`, /takes no other arguments/),
    c('set-domain -i /nonexistent', /Cannot read/),
    c(`set-domain -i ${badXml}`, /not well-formed XML/),
    c('set-domain failure-policy=bogus ldg1', /Invalid failure-policy: bogus/),
    c('set-domain failure-policy=bogus primary', /Invalid failure-policy: bogus/),
    c('set-domain hostid=xyz bigcpu', /Invalid hostid/),
    c('set-domain hostid=0x1 ldg2', INACTIVE_ONLY),
    c('set-domain mac-addr=00:14:4f:fc:00:09 ldg3', INACTIVE_ONLY),
    c('set-domain mac-addr=zz bigcpu', /Invalid MAC address/),
    c('set-domain mac-addr=00:14:4f:fb:ff:ff bigcpu', /automatic allocation/),
    c(`set-domain mac-addr=${MANUAL_MAC} bigcpu`, /already in use/),
    c('set-domain master=ldg1 ldg1', /own master/),
    c('set-domain master=nosuch ldg1', NOT_FOUND),
    c('set-domain master=ldg2,ldg3,bigcpu,bigmem,primary ldg1', /at most 4 masters/),
    // ldg2 already has ldg1 as its master.
    c('set-domain master=ldg2 ldg1', /depends on/),
    c('set-domain master=ldg3,ldg3 ldg1', /more than once/),
  ],
  'remove-domain': [
    c('remove-domain', /Missing domain name/),
    c('remove-domain -a ldg1', /takes no domain names/),
    c('remove-domain nosuch', NOT_FOUND),
    c('remove-domain bigmem nosuch', NOT_FOUND),
    c('remove-domain bigmem bigmem', /given more than once/),
    c('remove-domain ldg2', /must be unbound before it can be removed/),
    c('remove-domain ldg3', /must be unbound before it can be removed/),
    c('remove-domain primary', /control domain/),
    c('remove-domain ldg1', /is a master of LDom ldg2/),
  ],
  'bind-domain': [
    c('bind-domain', /Missing domain name/),
    c('bind nosuch', NOT_FOUND),
    c('bind ldg2', /already bound/),
    c('bind ldg3', /already bound/),
    c('bind bigcpu', /Not enough free CPU threads/),
    c('bind bigmem', /Not enough free memory/),
    c(`bind -i ${ldg1Xml} ldg1`, /takes no other arguments/),
    c('bind -i /nonexistent', /Cannot read/),
    c(`bind -i ${badXml}`, /not well-formed XML/),
    c(`bind -i ${halfXml}`, /Virtual switch nosuch-vsw does not exist/),
  ],
  'unbind-domain': [
    c('unbind nosuch', NOT_FOUND),
    c('unbind ldg1', /not bound/),
    c('unbind ldg3', /must be stopped/),
    c('unbind primary', /control domain/),
  ],
  'start-domain': [
    c('start-domain', /Missing domain name/),
    c('start -a ldg2', /takes no domain names/),
    c('start nosuch', NOT_FOUND),
    c('start ldg2 nosuch', NOT_FOUND),
    c('start ldg2 ldg2', /given more than once/),
    c('start ldg1', /^LDom ldg1 is not bound$/),
    c('start ldg2 ldg1', /^LDom ldg1 is not bound$/),
    c('start ldg3', /already active/),
    c('start primary', /already active/),
    c('start -i /nonexistent', /Cannot read/),
    c(`start -i ${badXml}`, /not well-formed XML/),
    c(`start -i ${halfXml}`, /Virtual switch nosuch-vsw does not exist/),
    c(`start -i ${badXml} ldg2`, /takes no other arguments/),
  ],
  'stop-domain': [
    c('stop-domain', /Missing domain name/),
    c('stop -a ldg3', /takes no domain names/),
    c('stop nosuch', NOT_FOUND),
    c('stop ldg3 nosuch', NOT_FOUND),
    c('stop ldg3 ldg3', /given more than once/),
    c('stop ldg1', /not active/),
    c('stop ldg2', /not active/),
    c('stop primary', /control domain/),
    c('stop -f primary', /control domain/),
  ],
  'panic-domain': [
    c('panic nosuch', NOT_FOUND),
    c('panic ldg1', /not active/),
    c('panic ldg2', /not active/),
    c('panic primary', /control domain/),
  ],
  'add-vcpu': [
    c('add-vcpu 1 nosuch', NOT_FOUND),
    c('add-vcpu -1 ldg1', /Invalid number of virtual CPUs: -1/),
    c('add-vcpu abc ldg1', /Invalid number of virtual CPUs/),
    c('add-vcpu 1.5 ldg1', /Invalid number of virtual CPUs/),
    c('add-vcpu 99999999999 ldg1', /Invalid number of virtual CPUs/),
    c('add-vcpu 100 ldg2', /Not enough free CPU threads/),
    c('add-vcpu 100 ldg3', /Not enough free CPU threads/),
    c('add-vcpu -c 1 ldg2', /whole-core constraint/),
    c('add-vcpu -c 1 ldg3', /whole-core constraint/),
    c('add-vcpu -c abc ldg1', /Invalid number of cores/),
  ],
  'set-vcpu': [
    c('set-vcpu 1 nosuch', NOT_FOUND),
    c('set-vcpu -1 ldg1', /Invalid number of virtual CPUs/),
    c('set-vcpu abc ldg1', /Invalid number of virtual CPUs/),
    c('set-vcpu 1.5 ldg1', /Invalid number of virtual CPUs/),
    c('set-vcpu 99999999999 ldg1', /Invalid number of virtual CPUs/),
    c('set-vcpu 0 ldg1', /at least one virtual CPU/),
    c('set-vcpu 0 ldg3', /at least one virtual CPU/),
    c('set-vcpu 100 ldg2', /Not enough free CPU threads/),
    c('set-vcpu -c 1 ldg2', /whole-core constraint/),
    c('set-vcpu -c 2 ldg3', /whole-core constraint/),
    c('set-vcpu -c 0 primary', /at least one virtual CPU/),
    // Whatever the delayed reconfiguration accepts, the reboot must be able to bind.
    c('set-vcpu -c 100 primary', /Not enough free cores/),
    c('set-vcpu 1000 primary', /Not enough free CPU threads/, T4),
    c('set-vcpu 8 g', /Delayed reconfiguration of LDom g is not permitted/, T4),
  ],
  'remove-vcpu': [
    c('remove-vcpu 1 nosuch', NOT_FOUND),
    c('remove-vcpu -1 ldg1', /Invalid number of virtual CPUs/),
    c('remove-vcpu abc ldg1', /Invalid number of virtual CPUs/),
    c('remove-vcpu 1.5 ldg1', /Invalid number of virtual CPUs/),
    c('remove-vcpu 99999999999 ldg1', /Invalid number of virtual CPUs/),
    c('remove-vcpu 9 ldg2', /has only 8/),
    c('remove-vcpu 8 ldg3', /at least one virtual CPU/),
    c('remove-vcpu -c 1 ldg2', /whole-core constraint/),
    c('remove-vcpu -c 5 primary', /has only 1/),
  ],
  'add-crypto': [
    c('add-crypto 1 nosuch', NOT_FOUND),
    c('add-crypto -1 ldg1', /Invalid number of crypto units/),
    c('add-crypto abc ldg1', /Invalid number of crypto units/),
    c('add-crypto 1.5 ldg1', /Invalid number of crypto units/),
    c('add-crypto 99999999999 ldg1', /Invalid number of crypto units/),
    c('add-crypto 100 ldg2', /Not enough free crypto units/),
    c('add-crypto 100 ldg3', /Not enough free crypto units/),
    c('add-crypto 1 primary', /no crypto units/, T4),
    c('add-crypto 1 g', /Delayed reconfiguration of LDom g is not permitted/, T4),
  ],
  'set-crypto': [
    c('set-crypto 1 nosuch', NOT_FOUND),
    c('set-crypto -1 ldg1', /Invalid number of crypto units/),
    c('set-crypto abc ldg1', /Invalid number of crypto units/),
    c('set-crypto 1.5 ldg1', /Invalid number of crypto units/),
    c('set-crypto 99999999999 ldg1', /Invalid number of crypto units/),
    c('set-crypto 9 ldg2', /Not enough free crypto units/),
    c('set-crypto 9 ldg3', /Not enough free crypto units/),
    c('set-crypto 0 primary', /no crypto units/, T4),
  ],
  'remove-crypto': [
    c('remove-crypto 1 nosuch', NOT_FOUND),
    c('remove-crypto -1 ldg1', /Invalid number of crypto units/),
    c('remove-crypto abc ldg1', /Invalid number of crypto units/),
    c('remove-crypto 1.5 ldg1', /Invalid number of crypto units/),
    c('remove-crypto 99999999999 ldg1', /Invalid number of crypto units/),
    c('remove-crypto 1 ldg2', /has only 0/),
    c('remove-crypto 5 primary', /has only 1/),
    c('remove-crypto 1 primary', /no crypto units/, T4),
  ],
  'add-memory': [
    c('add-memory 1G nosuch', NOT_FOUND),
    c('add-memory -1 ldg1', /Invalid memory size: -1/),
    c('add-memory abc ldg1', /Invalid memory size/),
    c('add-memory 1.5 ldg1', /Invalid memory size/),
    c('add-memory 1.5G ldg1', /Invalid memory size/),
    c('add-memory 0 ldg1', /Invalid memory size: 0/),
    c('add-memory 1X ldg1', /Invalid memory size: 1X/),
    c('add-memory 99999999999G ldg1', /Invalid memory size/),
    c('add-memory 64G ldg2', /Not enough free memory/),
    c('add-memory 64G ldg3', /Not enough free memory/),
    c('add-memory 1M ldg3', /multiple of 256MB/),
    c('add-memory --auto-adj 64G ldg2', /Not enough free memory/),
    c('add-memory 100G primary', /Not enough free memory/),
    c('add-memory 100G primary', /Not enough free memory/, T4),
  ],
  'set-memory': [
    c('set-memory 1G nosuch', NOT_FOUND),
    c('set-memory -1 ldg1', /Invalid memory size/),
    c('set-memory abc ldg1', /Invalid memory size/),
    c('set-memory 1.5 ldg1', /Invalid memory size/),
    c('set-memory 0 ldg1', /Invalid memory size: 0/),
    c('set-memory 0 ldg2', /Invalid memory size: 0/),
    c('set-memory 1X ldg1', /Invalid memory size/),
    c('set-memory 99999999999G ldg1', /Invalid memory size/),
    c('set-memory 1000G ldg2', /Not enough free memory/),
    c('set-memory 1000G ldg3', /Not enough free memory/),
    c('set-memory 1000G primary', /Not enough free memory/, T4),
  ],
  'remove-memory': [
    c('remove-memory 1G nosuch', NOT_FOUND),
    c('remove-memory -1 ldg1', /Invalid memory size/),
    c('remove-memory abc ldg1', /Invalid memory size/),
    c('remove-memory 1.5 ldg1', /Invalid memory size/),
    c('remove-memory 0 ldg1', /Invalid memory size: 0/),
    c('remove-memory 1X ldg1', /Invalid memory size/),
    c('remove-memory 99999999999G ldg1', /Invalid memory size/),
    c('remove-memory 4G ldg1', /Unable to remove 4G/),
    c('remove-memory 2G ldg2', /Unable to remove 2G/),
    c('remove-memory 4G ldg3', /Unable to remove 4G/),
    c('remove-memory 1M ldg3', /multiple of 256MB/),
  ],
  'start-reconf': [
    c('start-reconf nosuch', NOT_FOUND),
    c('start-reconf ldg1', /only supported on the control domain/),
    c('start-reconf ldg3', /only supported on the control domain/),
  ],
  'cancel-reconf': [
    c('cancel-reconf nosuch', NOT_FOUND),
    c('cancel-reconf primary', /not in a delayed reconfiguration/),
    c('cancel-reconf ldg1', /not in a delayed reconfiguration/),
    c('cancel-reconf g', /not in a delayed reconfiguration/, T4),
  ],
  'cancel-operation': [
    c('cancel-operation reconf', /Missing operand/),
    c('cancel-operation bogus primary', /Invalid operation: bogus/),
    c('cancel-operation reconf nosuch', NOT_FOUND),
    c('cancel-operation reconf primary', /not in a delayed reconfiguration/),
    c('cancel-operation migration ldg3', /No migration/),
    c('cancel-operation memdr ldg3', /No memory DR operation/),
  ],
  'migrate-domain': [
    c('migrate-domain ldg1', /Missing operand/),
    c('migrate-domain nosuch nohost', NOT_FOUND),
    c('migrate-domain ldg1 @nohost', /Invalid target: @nohost/),
    c('migrate-domain ldg1 nohost:', /Invalid target: nohost:/),
    c('migrate-domain ldg1 nohost:bad!name', /Invalid target domain name: bad!name/),
    c('migrate-domain -p /nonexistent/pw ldg1 nohost', /Cannot read \/nonexistent\/pw/),
    c('migrate-domain ldg1 nohost', /no terminal to prompt on/),
  ],
  'add-io': [
    c('add-io pci@400', /Missing operand/),
    c('add-io bogus ldg1', /I\/O device bogus does not exist/),
    c('add-io pci@400 nosuch', NOT_FOUND),
    c('add-io pci@400 ldg2', INACTIVE_ONLY),
    c('add-io pci@400 ldg3', INACTIVE_ONLY),
    c('add-io pci@400 primary', /already assigned/),
    c('add-io PCIE1 ldg1', /PCIe slot/),
  ],
  'remove-io': [
    c('remove-io pci@400', /Missing operand/),
    c('remove-io bogus primary', /does not exist/),
    c('remove-io pci@400 nosuch', NOT_FOUND),
    c('remove-io pci@400 ldg1', /not assigned/),
    c('remove-io pci@400 ldg3', INACTIVE_ONLY),
  ],
  'list-io': [c('list-io extra', /Unexpected operand: extra/)],
  'add-vsw': [
    c('add-vsw sw9', /Missing operand/),
    c('add-vsw sw9 nosuch', NOT_FOUND),
    c('add-vsw primary-vsw0 primary', /^Virtual switch primary-vsw0 already exists$/),
    c('add-vsw -bad primary', /Invalid option: -bad/),
    c('add-vsw -- -bad primary', BAD_NAME('service')),
    c('add-vsw a/b primary', BAD_NAME('service')),
    c('add-vsw é primary', BAD_NAME('service')),
    c(`add-vsw ${LONG} primary`, BAD_NAME('service')),
    c('add-vsw mac-addr=zz sw9 primary', /Invalid MAC address/),
    c('add-vsw mac-addr=00:14:4f:f8:00:01 sw9 primary', /automatic allocation/),
    c(`add-vsw mac-addr=${MANUAL_MAC} sw9 primary`, /already in use/),
    c('add-vsw pvid=0 sw9 primary', /Invalid value for pvid/),
    c('add-vsw pvid=abc sw9 primary', /Invalid value for pvid/),
    c('add-vsw vid=1,1 sw9 primary', /Invalid value for vid/),
    c('add-vsw vid=5000 sw9 primary', /Invalid value for vid/),
    c('add-vsw default-vlan-id=-1 sw9 primary', /Invalid value for default-vlan-id/),
    c('add-vsw mtu=100 sw9 primary', /Invalid value for mtu/),
    c('add-vsw mtu=1.5 sw9 primary', /Invalid value for mtu/),
    c('add-vsw mtu=99999999999 sw9 primary', /Invalid value for mtu/),
    c('add-vsw mode=bogus sw9 primary', /Invalid value for mode/),
    c('add-vsw linkprop=bogus sw9 primary', /Invalid value for linkprop/),
    c('add-vsw id=0 sw9 primary', /already exists/),
    c('add-vsw id=-1 sw9 primary', /Invalid value for id/),
    c('add-vsw net-dev=a/b sw9 primary', /Invalid net-dev/),
    c('add-vsw mtu=1600 mtu=1700 sw9 primary', /given more than once/),
  ],
  'set-vsw': [
    c('set-vsw primary-vsw0', /Nothing to set/),
    c('set-vsw mtu=1600 nosuch', /Virtual switch nosuch does not exist/),
    c('set-vsw mtu=1 primary-vsw0', /Invalid value for mtu/),
    c('set-vsw pvid=99999 primary-vsw0', /Invalid value for pvid/),
    c('set-vsw mac-addr=zz primary-vsw0', /Invalid MAC address/),
    c(`set-vsw mac-addr=${MANUAL_MAC} primary-vsw0`, /already in use/),
    c('set-vsw id=3 primary-vsw0', /Invalid property: id/),
  ],
  'remove-vsw': [
    c('remove-vsw nosuch', /Virtual switch nosuch does not exist/),
    c('remove-vsw primary-vsw0', /in use by vnet/),
    c('remove-vsw -f primary-vsw0', /in use by vnet/),
  ],
  'add-vnet': [
    c('add-vnet vnet2 primary-vsw0', /Missing operand/),
    c('add-vnet vnet2 primary-vsw0 nosuch', NOT_FOUND),
    c('add-vnet vnet2 nosuch ldg1', /Virtual switch nosuch does not exist/),
    c('add-vnet vnet1 primary-vsw0 ldg1', /already exists/),
    c('add-vnet -- -bad primary-vsw0 ldg1', BAD_NAME('vnet')),
    c('add-vnet a/b primary-vsw0 ldg1', BAD_NAME('vnet')),
    c('add-vnet é primary-vsw0 ldg1', BAD_NAME('vnet')),
    c(`add-vnet ${LONG} primary-vsw0 ldg1`, BAD_NAME('vnet')),
    c('add-vnet mac-addr=1:2:3 vnet2 primary-vsw0 ldg1', /Invalid MAC address/),
    c('add-vnet mac-addr=00:14:4f:f8:00:01 vnet2 primary-vsw0 ldg1', /automatic allocation/),
    c(`add-vnet mac-addr=${MANUAL_MAC} vnet2 primary-vsw0 ldg1`, /already in use/),
    c('add-vnet mode=sc vnet2 primary-vsw0 ldg1', /Invalid value for mode/),
    c('add-vnet id=0 vnet2 primary-vsw0 ldg1', /already exists/),
    c('add-vnet id=99999 vnet2 primary-vsw0 ldg1', /Invalid value for id/),
    c('add-vnet pvid=-1 vnet2 primary-vsw0 ldg1', /Invalid value for pvid/),
    c('add-vnet mtu=abc vnet2 primary-vsw0 ldg1', /Invalid value for mtu/),
    c('add-vnet net-dev=nxge0 vnet2 primary-vsw0 ldg1', /Invalid property: net-dev/),
  ],
  'set-vnet': [
    c('set-vnet vnet1', /Missing operand/),
    c('set-vnet vnet1 ldg1', /Nothing to set/),
    c('set-vnet mtu=1600 vnet1 nosuch', NOT_FOUND),
    c('set-vnet mtu=1600 nosuch ldg1', /Vnet nosuch does not exist/),
    c('set-vnet vswitch=nosuch vnet1 ldg1', /Virtual switch nosuch does not exist/),
    c('set-vnet mtu=abc vnet1 ldg1', /Invalid value for mtu/),
    c('set-vnet vid=0 vnet1 ldg1', /Invalid value for vid/),
    c('set-vnet mac-addr=zz vnet1 ldg1', /Invalid MAC address/),
    c(`set-vnet mac-addr=${MANUAL_MAC} vnet1 ldg1`, /already in use/),
    c('set-vnet mac-addr=00:14:4f:fc:00:05 vnet1 ldg3', INACTIVE_ONLY),
    c('set-vnet mode=hybrid vnet1 ldg3', /must be stopped/),
  ],
  'remove-vnet': [
    c('remove-vnet vnet1', /Missing operand/),
    c('remove-vnet nosuch ldg1', /Vnet nosuch does not exist/),
    c('remove-vnet vnet1 nosuch', NOT_FOUND),
  ],
  'add-vds': [
    c('add-vds vds9', /Missing operand/),
    c('add-vds vds9 nosuch', NOT_FOUND),
    c('add-vds primary-vds0 primary', /^Virtual disk service primary-vds0 already exists$/),
    c('add-vds -- -bad primary', BAD_NAME('service')),
    c('add-vds a/b primary', BAD_NAME('service')),
    c('add-vds é primary', BAD_NAME('service')),
    c(`add-vds ${LONG} primary`, BAD_NAME('service')),
  ],
  'remove-vds': [
    c('remove-vds nosuch', /Virtual disk service nosuch does not exist/),
    c('remove-vds primary-vds0', /is attached/),
    c('remove-vds -f primary-vds0', /is attached/),
  ],
  'add-vdsdev': [
    c(`add-vdsdev ${disk}`, /Missing operand/),
    c(`add-vdsdev ${disk} vol1@primary-vds0`, /^Volume vol1@primary-vds0 already exists$/),
    c(`add-vdsdev ${disk} vol9@nosuch`, /Virtual disk service nosuch does not exist/),
    c(`add-vdsdev ${disk} vol9`, /Invalid volume name/),
    c(`add-vdsdev ${disk} @primary-vds0`, /Invalid volume name/),
    c(`add-vdsdev ${disk} vol9@`, /Invalid volume name/),
    c(`add-vdsdev ${disk} a/b@primary-vds0`, BAD_NAME('volume')),
    c(`add-vdsdev ${disk} é@primary-vds0`, BAD_NAME('volume')),
    c(`add-vdsdev ${disk} ${LONG}@primary-vds0`, BAD_NAME('volume')),
    c(`add-vdsdev options=bogus ${disk} vol9@primary-vds0`, /Invalid option: bogus/),
    c(`add-vdsdev options=ro,ro ${disk} vol9@primary-vds0`, /given twice/),
    c(`add-vdsdev mpgroup=a/b ${disk} vol9@primary-vds0`, BAD_NAME('mpgroup')),
  ],
  'set-vdsdev': [
    c('set-vdsdev vol1@primary-vds0', /Nothing to set/),
    c('set-vdsdev options=ro nosuch@primary-vds0', /does not exist/),
    c('set-vdsdev options=ro vol1@nosuch', /does not exist/),
    c('set-vdsdev options=ro vol1', /Invalid volume name/),
    c('set-vdsdev options=bogus vol1@primary-vds0', /Invalid option: bogus/),
    c('set-vdsdev mpgroup=é vol1@primary-vds0', BAD_NAME('mpgroup')),
  ],
  'remove-vdsdev': [
    c('remove-vdsdev vol1@primary-vds0', /is attached/),
    c('remove-vdsdev -f vol1@primary-vds0', /is attached/),
    c('remove-vdsdev nosuch@primary-vds0', /^Volume nosuch@primary-vds0 does not exist$/),
    c('remove-vdsdev vol1@nosuch', /does not exist/),
    c('remove-vdsdev vol1', /Invalid volume name/),
  ],
  'add-vdisk': [
    c('add-vdisk vdisk2 vol1@primary-vds0', /Missing operand/),
    c('add-vdisk vdisk2 vol1@primary-vds0 nosuch', NOT_FOUND),
    c('add-vdisk vdisk2 nosuch@primary-vds0 ldg1', /does not exist/),
    c('add-vdisk vdisk2 vol1@nosuch ldg1', /does not exist/),
    c('add-vdisk vdisk2 vol1 ldg1', /Invalid volume name/),
    c('add-vdisk vdisk1 vol1@primary-vds0 ldg1', /already exists/),
    c('add-vdisk -- -bad vol1@primary-vds0 ldg1', BAD_NAME('vdisk')),
    c('add-vdisk a/b vol1@primary-vds0 ldg1', BAD_NAME('vdisk')),
    c('add-vdisk é vol1@primary-vds0 ldg1', BAD_NAME('vdisk')),
    c(`add-vdisk ${LONG} vol1@primary-vds0 ldg1`, BAD_NAME('vdisk')),
    c('add-vdisk timeout=-1 vdisk2 vol1@primary-vds0 ldg1', /Invalid value for timeout/),
    c('add-vdisk timeout=abc vdisk2 vol1@primary-vds0 ldg1', /Invalid value for timeout/),
    c('add-vdisk timeout=99999999999 vdisk2 vol1@primary-vds0 ldg1', /Invalid value for timeout/),
    c('add-vdisk id=1.5 vdisk2 vol1@primary-vds0 ldg1', /Invalid value for id/),
    c('add-vdisk id=0 vdisk2 vol1@primary-vds0 ldg1', /already exists/),
  ],
  'set-vdisk': [
    c('set-vdisk vdisk1 ldg1', /Nothing to set/),
    c('set-vdisk timeout=5 vdisk1 nosuch', NOT_FOUND),
    c('set-vdisk timeout=5 nosuch ldg1', /Vdisk nosuch does not exist/),
    c('set-vdisk volume=nosuch@primary-vds0 vdisk1 ldg1', /does not exist/),
    c('set-vdisk volume=vol1@nosuch vdisk1 ldg1', /does not exist/),
    c('set-vdisk volume=x vdisk1 ldg1', /Invalid volume name/),
    c('set-vdisk timeout=1.5 vdisk1 ldg1', /Invalid value for timeout/),
    c('set-vdisk id=1 vdisk1 ldg1', /Invalid property: id/),
  ],
  'remove-vdisk': [
    c('remove-vdisk vdisk1', /Missing operand/),
    c('remove-vdisk nosuch ldg1', /Vdisk nosuch does not exist/),
    c('remove-vdisk vdisk1 nosuch', NOT_FOUND),
  ],
  'add-vcc': [
    c('add-vcc vcc9 primary', /port-range/),
    c('add-vcc port-range=7000-7010 vcc9', /Missing operand/),
    c('add-vcc port-range=7000-7010 vcc9 nosuch', NOT_FOUND),
    c('add-vcc port-range=7000-7010 primary-vcc0 primary', /already exists/),
    c('add-vcc port-range=7000-7010 -- -bad primary', BAD_NAME('service')),
    c('add-vcc port-range=7000-7010 a/b primary', BAD_NAME('service')),
    c('add-vcc port-range=7000-7010 é primary', BAD_NAME('service')),
    c(`add-vcc port-range=7000-7010 ${LONG} primary`, BAD_NAME('service')),
    c('add-vcc port-range=abc vcc9 primary', /Invalid port-range: abc/),
    c('add-vcc port-range=7010-7000 vcc9 primary', /Invalid port-range/),
    c('add-vcc port-range=0-10 vcc9 primary', /Invalid port-range/),
    c('add-vcc port-range=1-99999 vcc9 primary', /Invalid port-range/),
    c('add-vcc port-range=-1-5 vcc9 primary', /Invalid port-range/),
    c('add-vcc port-range=7000 vcc9 primary', /Invalid port-range/),
    c('add-vcc port-range=1.5-2 vcc9 primary', /Invalid port-range/),
    c('add-vcc port-range=99999999999-1 vcc9 primary', /Invalid port-range/),
    c('add-vcc port-range=5050-5200 vcc9 primary', /overlaps the range 5000-5100 of primary-vcc0/),
    c('add-vcc port-range=4000-7000 vcc9 primary', /overlaps/),
  ],
  'set-vcc': [
    c('set-vcc primary-vcc1', /port-range/),
    c('set-vcc port-range=6000-6020 nosuch', /does not exist/),
    c('set-vcc port-range=6020-6000 primary-vcc1', /Invalid port-range/),
    c('set-vcc port-range=x primary-vcc1', /Invalid port-range/),
    c('set-vcc port-range=5050-6010 primary-vcc1', /overlaps the range 5000-5100 of primary-vcc0/),
    // ldg2 and ldg3 hold ports 5000 and 5001.
    c('set-vcc port-range=5050-5100 primary-vcc0', /in use by LDom ldg2/),
  ],
  'remove-vcc': [
    c('remove-vcc nosuch', /does not exist/),
    c('remove-vcc primary-vcc0', /in use/),
  ],
  'set-vcons': [
    c('set-vcons ldg1', /Nothing to set/),
    c('set-vcons port=5050 nosuch', NOT_FOUND),
    c('set-vcons port=5050 ldg2', INACTIVE_ONLY),
    c('set-vcons port=5050 ldg3', INACTIVE_ONLY),
    c('set-vcons port=abc ldg1', /Invalid port: abc/),
    c('set-vcons port=0 ldg1', /Invalid port: 0/),
    c('set-vcons port=99999 ldg1', /Invalid port: 99999/),
    c('set-vcons port=-1 ldg1', /Invalid port: -1/),
    c('set-vcons port=1.5 ldg1', /Invalid port/),
    c('set-vcons service=nosuch ldg1', /does not exist/),
    c('set-vcons group=a/b ldg1', BAD_NAME('console group')),
    c(`set-vcons group=${LONG} ldg1`, BAD_NAME('console group')),
  ],
  'add-vdpcs': [
    c('add-vdpcs dpcs9', /Missing operand/),
    c('add-vdpcs dpcs9 nosuch', NOT_FOUND),
    c('add-vdpcs dpcs0 primary', /already exists/),
    c('add-vdpcs -- -bad primary', BAD_NAME('service')),
    c('add-vdpcs a/b primary', BAD_NAME('service')),
    c('add-vdpcs é primary', BAD_NAME('service')),
    c(`add-vdpcs ${LONG} primary`, BAD_NAME('service')),
  ],
  'remove-vdpcs': [
    c('remove-vdpcs nosuch', /does not exist/),
    c('remove-vdpcs dpcs0', /in use by vdpcc cc1/),
    c('remove-vdpcs -f dpcs0', /in use by vdpcc cc1/),
  ],
  'add-vdpcc': [
    c('add-vdpcc cc9 dpcs0', /Missing operand/),
    c('add-vdpcc cc9 dpcs0 nosuch', NOT_FOUND),
    c('add-vdpcc cc9 nosuch ldg1', /does not exist/),
    c('add-vdpcc cc1 dpcs0 ldg1', /already exists/),
    c('add-vdpcc -- -bad dpcs0 ldg1', BAD_NAME('vdpcc')),
    c('add-vdpcc a/b dpcs0 ldg1', BAD_NAME('vdpcc')),
    c(`add-vdpcc ${LONG} dpcs0 ldg1`, BAD_NAME('vdpcc')),
  ],
  'remove-vdpcc': [
    c('remove-vdpcc cc1', /Missing operand/),
    c('remove-vdpcc nosuch ldg1', /does not exist/),
    c('remove-vdpcc cc1 nosuch', NOT_FOUND),
    c('remove-vdpcc cc1 ldg3', /does not exist/),
  ],
  'add-policy': [
    c('add-policy ldg1', /Missing name=policy-name/),
    c('add-policy name= ldg1', /Missing name=policy-name/),
    c('add-policy name=p9 nosuch', NOT_FOUND),
    // The policy would be added to ldg2 before nosuch is found: nothing may stay.
    c('add-policy name=p9 ldg2 nosuch', NOT_FOUND),
    c('add-policy name=p9 ldg2 ldg2', /given more than once/),
    c('add-policy name=p1 ldg1', /already exists/),
    c('add-policy name=a/b ldg1', BAD_NAME('policy')),
    c(`add-policy name=${LONG} ldg1`, BAD_NAME('policy')),
    c('add-policy name=p9 vcpu-min=-1 ldg1', /Invalid value for vcpu-min/),
    c('add-policy name=p9 vcpu-max=abc ldg1', /Invalid value for vcpu-max/),
    c('add-policy name=p9 priority=1.5 ldg1', /Invalid value for priority/),
    c('add-policy name=p9 priority=99999999999 ldg1', /Invalid value for priority/),
    c('add-policy name=p9 util-upper=101 ldg1', /Invalid value for util-upper/),
    c('add-policy name=p9 enable=maybe ldg1', /Invalid value for enable/),
    c('add-policy name=p9 tod-begin=25:00 ldg1', /Invalid value for tod-begin/),
    c('add-policy name=p9 tod-begin=12:00 tod-end=11:00 ldg1', /must be before/),
    c('add-policy name=p9 util-lower=90 util-upper=80 ldg1', /must be below/),
    c('add-policy name=p9 vcpu-min=8 vcpu-max=2 ldg1', /must not exceed/),
  ],
  'set-policy': [
    c('set-policy priority=5 ldg1', /Missing name=policy-name/),
    c('set-policy name=p1 ldg1', /Nothing to set/),
    c('set-policy name=nosuch priority=5 ldg1', /Policy nosuch does not exist/),
    c('set-policy name=p1 priority=5 nosuch', NOT_FOUND),
    c('set-policy name=p1 priority=5 ldg1 ldg2', /Policy p1 does not exist in LDom ldg2/),
    c('set-policy name=p1 priority=abc ldg1', /Invalid value for priority/),
    c('set-policy name=p1 vcpu-max=0 ldg1', /Invalid value for vcpu-max/),
    c('set-policy name=p1 vcpu-min=9 ldg1', /must not exceed/),
  ],
  'remove-policy': [
    c('remove-policy ldg1', /Missing policy name/),
    c('remove-policy name= ldg1', /Missing policy name/),
    c('remove-policy nosuch ldg1', /Policy nosuch does not exist/),
    c('remove-policy p1 nosuch ldg1', /Policy nosuch does not exist/),
    c('remove-policy p1 nosuch', NOT_FOUND),
    c('remove-policy p1 p1 ldg1', /given more than once/),
  ],
  'add-variable': [
    c('add-variable ldg1', /Missing var-name=value/),
    c('add-variable boot-device=disk', /Missing operand/),
    c('add-variable boot-device=disk nosuch', NOT_FOUND),
    c('add-variable auto-boot?=true ldg1', /already exists/),
    c('add-variable é=1 ldg1', /Invalid variable name: é/),
    c('add-variable =1 ldg1', /Missing variable name/),
    c('add-variable boot-device=a boot-device=b ldg1', /given more than once/),
    c('add-variable boot-device=disk ldg1 extra', /Unexpected operand: extra/),
  ],
  'set-variable': [
    c('set-variable ldg1', /Missing var-name=value/),
    c('set-variable boot-device=disk nosuch', NOT_FOUND),
    c('set-variable é=1 ldg1', /Invalid variable name/),
    c('set-variable -bad=1 ldg1', /Invalid option/),
    c('set-variable boot-device=a boot-device=b ldg1', /given more than once/),
  ],
  'remove-variable': [
    c('remove-variable ldg1', /Missing operand/),
    c('remove-variable nosuch ldg1', /not found/),
    c('remove-variable auto-boot? nosuch', NOT_FOUND),
    c('remove-variable auto-boot? ldg1 extra', /LDom extra not found/),
    c('remove-variable auto-boot? auto-boot? ldg1', /given more than once/),
  ],
  'list-variable': [
    c('list-variable nosuch', NOT_FOUND),
    c('list-variable nosuch ldg1', /Variable nosuch not found/),
    c('list-variable auto-boot? ldg1 extra', /LDom extra not found/),
  ],
  'add-spconfig': [
    c('add-spconfig cfg1', /^The configuration cfg1 already exists$/),
    c('add-spconfig factory-default', /already exists/),
    c(`add-spconfig ${LONG_CFG}`, /invalid configuration name/),
    c('add-spconfig é', /invalid configuration name/),
    c('add-spconfig -- -bad', /invalid configuration name/),
    c('add-spconfig -r nosuch', /does not exist/),
    c(`add-spconfig -r cfg1 ${LONG_CFG}`, /invalid configuration name/),
    c('add-spconfig -r cfg1 cfg2 extra', /Unexpected operand: extra/),
  ],
  'set-spconfig': [c('set-spconfig nosuch', /^The configuration nosuch does not exist$/)],
  'remove-spconfig': [
    c('remove-spconfig factory-default', /cannot be removed/),
    c('remove-spconfig nosuch', /does not exist/),
    c('remove-spconfig -r nosuch', /does not exist/),
  ],
  'list-spconfig': [c('list-spconfig -r nosuch', /does not exist/)],
  'list-domain': [
    c('list nosuch', NOT_FOUND),
    c('list primary nosuch', NOT_FOUND),
    c('list -o bogus', /Invalid format: bogus/),
    c('list -o memory,bogus', /Invalid format: bogus/),
    c('list -o', /requires a value/),
    c('list -l -l', /more than once/),
    c('ls-dom nosuch', NOT_FOUND),
  ],
  'list-bindings': [c('list-bindings nosuch', NOT_FOUND), c('list-bindings primary nosuch', NOT_FOUND)],
  'list-services': [c('list-services nosuch', NOT_FOUND)],
  'list-constraints': [
    c('list-constraints nosuch', NOT_FOUND),
    c('list-constraints -x -p', /-x cannot be combined/),
    c('list-constraints -x -e ldg1', /-x cannot be combined/),
  ],
  'list-devices': [
    c('list-devices bogus', /Invalid resource type: bogus/),
    c('list-devices -a -a', /more than once/),
  ],
};

/** Everything a failing command could have changed, with the live counters blanked. */
async function snapshot(host: string): Promise<string> {
  const listings = [['list-constraints', '-p'], ['list-bindings', '-p'], ['list-services', '-p'], ['list-spconfig'], ['list-variable', host === H ? 'ldg1' : 'primary']];
  const out = await Promise.all(
    listings.map(async (a) => {
      const r = await ldm(host, ...a);
      assert.equal(r.code, 0, `ldm ${a.join(' ')}: ${r.stderr}`);
      return r.stdout;
    }),
  );
  return out.join('\n-----\n').replace(/\b(util|uptime)=[^|\n]*/g, '$1=');
}

/**
 * The request the `ldm` binary sends, without starting a process: hundreds of cases stay within
 * the time budget. The binary itself runs the cases that read a file (`-i`, read by the client)
 * and one case per subcommand, and must give the same answer.
 */
const protocol = (host: string, argv: string[]) => rawLdm(path.join(home.hostDir(host), 'run', 'ldmd.sock'), argv);

/**
 * The `ldm` binary as `home.ldm` runs it, but with no stdin pipe: with dozens of short-lived
 * processes at once, ending a pipe to one that already exited raises an unhandled EPIPE.
 */
function ldm(host: string, ...argv: string[]): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(BIN, 'ldm'), ...argv], { env: home.env(host), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** Run `job` over `items`, at most `width` at a time. */
async function pool<T, R>(items: T[], width: number, job: (t: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await job(items[i]);
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
  return results;
}

/** What is wrong with the outcome of a case that had to fail; empty when nothing is. */
function problems(k: Case, r: RunResult): string[] {
  const p: string[] = [];
  if (r.code === 0) p.push('exited 0');
  if (r.stdout !== '') p.push(`wrote to stdout: ${JSON.stringify(r.stdout.slice(0, 200))}`);
  if (r.stderr.trim() === '') p.push('no message on stderr');
  if (/internal error|undefined|NaN|\[object|^\s+at \S+ \(|TypeError|ReferenceError/m.test(r.stderr)) p.push('stderr looks like a crash');
  // The draft of a refused command is thrown away: it must not announce a delayed reconfiguration.
  if (r.stderr.includes('Initiating delayed reconfigure')) p.push('announces a delayed reconfiguration it did not start');
  if (!r.stderr.endsWith('\n')) p.push('message does not end with a newline');
  if (k.expect && !k.expect.test(r.stderr.trimEnd())) p.push(`message does not match ${k.expect}`);
  return p.length ? [`ldm ${k.argv.join(' ').slice(0, 120)}: ${p.join('; ')}\n    stderr: ${JSON.stringify(r.stderr.slice(0, 300))}`] : [];
}

/** The cases derived from a subcommand's template: unknown option, unknown property, operand counts. */
function derived(name: string): Case[] {
  const spec = COMMANDS.find((s) => s.name === name)!;
  const t = TEMPLATE[name];
  const out: Case[] = [
    { argv: [name, '-Z', ...t], expect: /^Invalid option: -Z$/m },
    // Variables take any name=value; the naming rule for them is in CASES.
    ...(spec.props === '*' ? [] : [{ argv: [name, 'bogus-prop=1', ...t], expect: /^Invalid property: bogus-prop$/m }]),
  ];
  const [min, max] = spec.operands;
  const operands = t.filter((a) => !/^[A-Za-z][\w?.-]*=/.test(a));
  if (min > 0) out.push({ argv: [name] });
  if (min > 0 && operands.length - 1 < min) out.push({ argv: [name, ...t.slice(0, -1)], expect: /Missing operand/ });
  if (Number.isFinite(max)) out.push({ argv: [name, ...t, 'extra'], expect: /Unexpected operand: extra/ });
  return out;
}

before(async () => {
  fs.writeFileSync(disk, '');
  fs.truncateSync(disk, 1 << 30);
  fs.writeFileSync(badXml, '<?xml version="1.0"?>\n<LDM_interface version="1.3"><data>\n');
  await Promise.all([
    home.startHost(H, '--platform', 't5240', '--cores', '4', '--memory', '32G'),
    home.startHost(T4, '--platform', 't4-2', '--memory', '8G'),
  ]);
  const ok = (...a: string[]) => home.ok(H, ...a);
  // Services on the control domain, then shrink it so that guests can bind (as in the walkthrough).
  await ok('add-vcc', 'port-range=5000-5100', 'primary-vcc0', 'primary');
  await ok('add-vcc', 'port-range=6000-6010', 'primary-vcc1', 'primary');
  await ok('add-vds', 'primary-vds0', 'primary');
  await ok('add-vsw', 'net-dev=nxge0', 'primary-vsw0', 'primary');
  await ok('add-vdsdev', disk, 'vol1@primary-vds0');
  await ok('start-reconf', 'primary');
  await ok('set-crypto', '1', 'primary');
  await ok('set-vcpu', '8', 'primary');
  await ok('set-memory', '3872M', 'primary');
  const r = await home.run('ldoms', ['host', 'reboot', H]);
  assert.equal(r.code, 0, r.stderr);
  // ldg1 inactive with constraints, ldg2 bound (ldg1 its master), ldg3 active; bigcpu and bigmem
  // ask for more than is free.
  await ok('add-domain', `mac-addr=${MANUAL_MAC}`, 'failure-policy=reset', 'ldg1');
  for (const g of ['ldg1', 'ldg2', 'ldg3']) {
    if (g !== 'ldg1') await ok('add-domain', ...(g === 'ldg2' ? ['master=ldg1'] : []), g);
    await ok('add-vcpu', '8', g);
    await ok('add-memory', '2G', g);
    await ok('add-vnet', 'vnet1', 'primary-vsw0', g);
  }
  await ok('add-vdisk', 'vdisk1', 'vol1@primary-vds0', 'ldg1');
  await ok('set-variable', 'auto-boot?=false', 'ldg1');
  await ok('bind', 'ldg2');
  await ok('bind', 'ldg3');
  await ok('start', 'ldg3');
  await ok('add-domain', 'bigcpu', 'bigmem');
  await ok('set-vcpu', '48', 'bigcpu');
  await ok('set-memory', '1G', 'bigcpu');
  await ok('set-vcpu', '8', 'bigmem');
  await ok('set-memory', '30G', 'bigmem');
  await ok('add-vdpcs', 'dpcs0', 'primary');
  await ok('add-vdpcc', 'cc1', 'dpcs0', 'ldg1');
  await ok('add-policy', 'name=p1', 'vcpu-min=1', 'vcpu-max=8', 'ldg1');
  await ok('add-spconfig', 'cfg1');
  await home.ok(T4, 'add-domain', 'g');
  await home.ok(T4, 'start-reconf', 'primary');

  const xml = await ok('list-constraints', '-x', 'ldg1');
  fs.writeFileSync(ldg1Xml, xml);
  // A new domain whose vnet names a switch that does not exist: it fails after the domain itself
  // was created in the draft.
  const half = xml
    .replace(/id="ldg1"/g, 'id="xmldom"')
    .replace(/^.*(<uuid>|<rasd:Address>|key="hostid").*\n/gm, '')
    .replace(/>primary-vsw0</g, '>nosuch-vsw<');
  assert.notEqual(half, xml);
  fs.writeFileSync(halfXml, half);
});
after(() => home.cleanup());

test('every subcommand of the command table has bad-input cases', () => {
  const names = COMMANDS.map((s) => s.name);
  assert.deepEqual(names.filter((n) => !CASES[n]?.length), [], 'subcommands without cases');
  assert.deepEqual(names.filter((n) => !TEMPLATE[n]), [], 'subcommands without a template');
  assert.deepEqual(Object.keys(CASES).filter((n) => !names.includes(n)), [], 'cases for unknown subcommands');
});

test('ldm --help, ldm --help <command>, and an unknown command', async () => {
  const all = await ldm(H, '--help');
  assert.equal(all.code, 0);
  assert.equal(all.stderr, '');
  const per = await pool([...COMMANDS], 4, async (s) => ({ s, r: await ldm(H, '--help', s.name), r2: await protocol(H, [s.name, '--help']) }));
  for (const { s, r, r2 } of per) {
    for (const line of s.synopsis) assert.ok(all.stdout.includes(`    ${line}\n`), `ldm --help lists ${line}`);
    for (const x of [r, r2]) {
      assert.equal(x.code, 0, `ldm --help ${s.name}`);
      assert.equal(x.stderr, '');
      assert.ok(x.stdout.startsWith('Usage:\n'), x.stdout);
      for (const line of s.synopsis) assert.ok(x.stdout.includes(`    ldm ${line}\n`), `ldm --help ${s.name} shows ${line}`);
    }
  }
  for (const argv of [['bogus-command'], ['--help', 'bogus-command'], ['-Z'], ['bogus-command', 'primary']]) {
    const r = await ldm(H, ...argv);
    assert.notEqual(r.code, 0, argv.join(' '));
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^Invalid command: (bogus-command|-Z)\n/);
  }
});

test('bad input: a clear error, a non-zero exit, nothing half-applied', async (t) => {
  const cases: Case[] = [];
  // The first particular case of each subcommand also goes through the binary.
  const sampled = new Set(COMMANDS.map((s) => CASES[s.name]?.[0]));
  for (const s of COMMANDS) cases.push(...derived(s.name), ...(CASES[s.name] ?? []));
  const hosts = [H, T4];
  const was = await Promise.all(hosts.map(snapshot));
  const results = await pool(cases, 8, async (k) => {
    if (k.argv.includes('-i')) return { k, r: await ldm(k.host ?? H, ...k.argv) };
    const r = await protocol(k.host ?? H, k.argv);
    const viaBinary = sampled.has(k) ? await ldm(k.host ?? H, ...k.argv) : r;
    return { k, r, same: JSON.stringify(viaBinary) === JSON.stringify(r) };
  });
  const now = await Promise.all(hosts.map(snapshot));
  const binary = cases.filter((k) => k.argv.includes('-i') || sampled.has(k)).length;
  t.diagnostic(`${cases.length} bad-input cases over ${COMMANDS.length} subcommands, ${binary} of them also through the ldm binary`);

  await t.test('each fails with one clear message', () => {
    const bad = results.flatMap(({ k, r, same }) => [...problems(k, r), ...(same === false ? [`ldm ${k.argv.join(' ')}: the binary answers differently`] : [])]);
    assert.deepEqual(bad, [], `${bad.length} of ${cases.length} cases misbehaved`);
  });
  await t.test('nothing half-applied', () => {
    hosts.forEach((h, i) => assert.equal(now[i], was[i], `host ${h} changed`));
  });
});
