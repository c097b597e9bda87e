/**
 * The NETCONF probe: an SSH login (the host key checked against pinned keys as a Device does,
 * unless the template disables it), the `netconf` subsystem, and the server's <hello>. The
 * probe reads the hello and hangs up; it sends no RPC.
 */
import ssh2, { type ConnectConfig } from 'ssh2';
import {
  matchesPinned,
  preferredHostKeyAlgorithms,
  type PinnedHostKey,
} from '@switchforge/platform/ssh/host-key';
import type { ProbeLogin } from './gnmi-probe.js';
import { classifySshError, parseHello, type ProbeOutcome } from './probe-result.js';

// ssh2 is CommonJS whose Client export Node's ESM loader cannot see by name.
const { Client } = ssh2;

export interface NetconfProbeOptions {
  readonly address: string;
  readonly port: number;
  readonly login: ProbeLogin;
  /** The keys this target may present; `disabled` accepts any (the template's explicit opt-out). */
  readonly hostKeys: readonly PinnedHostKey[] | 'disabled';
  readonly timeoutMs: number;
}

const EOM = ']]>]]>';
const MAX_HELLO_BYTES = 1024 * 1024;

export function probeNetconf(options: NetconfProbeOptions): Promise<ProbeOutcome> {
  const { address, port, login, hostKeys, timeoutMs } = options;
  return new Promise((resolve) => {
    const conn = new Client();
    let hostKeyRejected = false;
    let settled = false;
    const finish = (outcome: ProbeOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      conn.end();
      conn.destroy();
      resolve(outcome);
    };
    const fail = (kind: 'refused' | 'unreachable', reason: string, message: string) =>
      finish({ kind, protocol: 'netconf', port, reason, message });
    const timer = setTimeout(
      () => fail('unreachable', 'Timeout', `no NETCONF hello within ${timeoutMs} ms`),
      timeoutMs,
    );

    const config: ConnectConfig = {
      host: address,
      port,
      username: login.username,
      readyTimeout: timeoutMs,
      ...(login.password !== undefined ? { password: login.password } : {}),
      ...(login.privateKey !== undefined ? { privateKey: login.privateKey } : {}),
    };
    if (hostKeys === 'disabled') {
      config.hostVerifier = () => true;
    } else {
      if (hostKeys.length === 0)
        return fail(
          'unreachable',
          'HostKeyMismatch',
          `no pinned host key for ${address} in the host key Secret`,
        );
      config.algorithms = {
        serverHostKey: { prepend: preferredHostKeyAlgorithms(hostKeys), append: [], remove: [] },
      } as ConnectConfig['algorithms'];
      config.hostVerifier = (key: Buffer): boolean => {
        const ok = matchesPinned(hostKeys, key);
        if (!ok) hostKeyRejected = true;
        return ok;
      };
    }
    conn.on('error', (err: Error & { level?: string; code?: string }) => {
      const { kind, reason } = classifySshError(err, hostKeyRejected);
      fail(
        kind,
        reason,
        hostKeyRejected ? 'the server presented a host key that is not pinned' : `ssh: ${err.message}`,
      );
    });
    conn.on('close', () => fail('unreachable', 'Unreachable', 'connection closed before the NETCONF hello'));
    conn.on('ready', () => {
      conn.subsys('netconf', (err, channel) => {
        if (err) return fail('unreachable', 'NotNetconf', `netconf subsystem refused: ${err.message}`);
        let text = '';
        channel.on('data', (chunk: Buffer) => {
          text += chunk.toString('utf8');
          const end = text.indexOf(EOM);
          if (end < 0) {
            if (text.length > MAX_HELLO_BYTES) fail('unreachable', 'NotNetconf', 'the hello exceeds 1 MiB');
            return;
          }
          try {
            finish({ kind: 'answered', protocol: 'netconf', port, facts: parseHello(text.slice(0, end)) });
          } catch (e) {
            fail('unreachable', 'NotNetconf', (e as Error).message);
          }
        });
      });
    });
    conn.connect(config);
  });
}
