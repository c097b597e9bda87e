/**
 * Network namespaces, links and addresses through iproute2, and commands started inside a
 * namespace through nsenter. Names are the project's own (DEVELOPERS.md: network rules): created
 * here, deleted on stop.
 */
import { existsSync } from 'node:fs';
import { run, runChecked } from '../processes.js';

export function netnsPath(name: string): string {
  return `/run/netns/${name}`;
}

export async function ip(args: readonly string[]): Promise<void> {
  const r = await run('ip', args);
  if (r.code !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim()}`);
}

export async function createNetns(name: string): Promise<void> {
  if (!existsSync(netnsPath(name))) await ip(['netns', 'add', name]);
  await ip(['-n', name, 'link', 'set', 'lo', 'up']);
  // Routing between the nodes' and pods' networks happens inside these namespaces only.
  await inNetns(name, 'sysctl', ['-q', '-w', 'net.ipv4.ip_forward=1']);
}

export async function deleteNetns(name: string): Promise<void> {
  if (existsSync(netnsPath(name))) await run('ip', ['netns', 'del', name]);
}

/** Runs a command to completion inside the namespace (its network only). */
export async function inNetns(name: string, command: string, args: readonly string[]): Promise<string> {
  return runChecked('nsenter', [`--net=${netnsPath(name)}`, '--', command, ...args]);
}

/** The command line that starts `command` inside the namespace, for startDetached. */
export function netnsCommand(name: string, command: string, args: readonly string[]): [string, string[]] {
  return ['nsenter', [`--net=${netnsPath(name)}`, '--', command, ...args]];
}

/** Project namespaces left by an earlier run that did not stop (their names start with `prefix`). */
export async function listNetns(prefix: string): Promise<string[]> {
  const r = await run('ip', ['netns', 'list']);
  return r.stdout
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((n) => n.startsWith(prefix));
}
