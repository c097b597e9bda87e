/** Device resources for the backup tests. */
import type { Device, DeviceSpec } from '@switchforge/platform/crd';

export function testDevice(
  name: string,
  spec: Partial<DeviceSpec> & Pick<DeviceSpec, 'protocol' | 'port'>,
  annotations: Record<string, string> = {},
): Device {
  return {
    apiVersion: 'switchforge.io/v1alpha1',
    kind: 'Device',
    metadata: { namespace: 'lab', name, uid: `uid-${name}`, generation: 1, annotations },
    spec: { address: '127.0.0.1', credentials: { secretRef: { name: `${name}-credentials` } }, ...spec },
  };
}

/** A loopback port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const { createServer } = await import('node:net');
  const server = createServer();
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const port = (server.address() as { port: number }).port;
  await new Promise((res) => server.close(res));
  return port;
}
