import type { V1Container, V1EnvVar, V1Pod } from '@kubernetes/client-node';

export type SecretLookup = (name: string, key: string) => Promise<string | undefined>;

/** The value of a Downward-API fieldRef, as the kubelet resolves it. */
export function fieldValue(pod: V1Pod, fieldPath: string): string {
  switch (fieldPath) {
    case 'metadata.name':
      return pod.metadata?.name ?? '';
    case 'metadata.namespace':
      return pod.metadata?.namespace ?? '';
    case 'metadata.uid':
      return pod.metadata?.uid ?? '';
    case 'spec.nodeName':
      return pod.spec?.nodeName ?? '';
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName ?? '';
    case 'status.podIP':
      return pod.status?.podIP ?? '';
    default: {
      const label = /^metadata\.labels\['(.+)'\]$/.exec(fieldPath);
      if (label) return pod.metadata?.labels?.[label[1]!] ?? '';
      throw new Error(`unsupported fieldRef ${fieldPath}`);
    }
  }
}

/** `$(VAR)` references to earlier variables are expanded; `$$(VAR)` escapes, as in Kubernetes. */
export function expand(value: string, env: Record<string, string>): string {
  return value.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (m, name: string | undefined) =>
    m === '$$' ? '$' : name !== undefined && name in env ? env[name]! : m,
  );
}

/** The container's environment, resolved as the kubelet does (in order, with expansion). */
export async function resolveEnv(
  pod: V1Pod,
  container: V1Container,
  secret: SecretLookup,
): Promise<Record<string, string>> {
  const env: Record<string, string> = {};
  for (const v of container.env ?? ([] as V1EnvVar[])) {
    if (v.value !== undefined) env[v.name] = expand(v.value, env);
    else if (v.valueFrom?.fieldRef) env[v.name] = fieldValue(pod, v.valueFrom.fieldRef.fieldPath);
    else if (v.valueFrom?.secretKeyRef) {
      const { name, key, optional } = v.valueFrom.secretKeyRef;
      const value = await secret(name!, key);
      if (value === undefined && !optional)
        throw new Error(`secret ${name}/${key} for env ${v.name} not found`);
      if (value !== undefined) env[v.name] = value;
    }
  }
  return env;
}
