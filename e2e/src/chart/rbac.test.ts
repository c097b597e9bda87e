/**
 * The chart's RBAC is least-privilege: no wildcards, no way to read Secrets, no escalation verbs;
 * and, on a real kube-apiserver with the chart's roles bound, the operator's and the API's
 * ServiceAccounts may do what their code does and nothing of what it does not. The operator's
 * grant to device workers (operator/src/device/namespace-setup.ts) passes RBAC's escalation check.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { namespaceObjects } from '@switchforge/operator/device/namespace-setup';
import { useInfra, type Infra } from '@switchforge/testkit';
import { installCrds } from '../harness/platform-under-test.js';
import { ensureHelm, releaseName, template, type Manifest } from './helm.js';

interface Rule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}
const rulesOf = (m: Manifest) => (m as unknown as { rules: Rule[] }).rules;
const roles = (ms: Manifest[]) => ms.filter((m) => m.kind === 'ClusterRole' || m.kind === 'Role');
/** The read verbs of each rule on Secrets in the operator's ClusterRole. */
const secretRules = (ms: Manifest[]) =>
  rulesOf(
    ms.find((m) => m.kind === 'ClusterRole' && m.metadata.name === `${releaseName}-switchforge-operator`)!,
  )
    .filter((r) => r.resources?.includes('secrets'))
    .map((r) => r.verbs.filter((v) => ['get', 'list', 'watch'].includes(v)));

let manifests: Manifest[];
before(async () => {
  await ensureHelm();
  manifests = (await template({ 'temporal.tls.enabled': true, 'temporal.tls.secretName': 't' })).manifests;
});

describe('the chart RBAC, as rendered', () => {
  test('names every verb, resource and API group: no wildcards, no non-resource URLs', () => {
    const rs = roles(manifests);
    assert.ok(rs.length >= 3);
    for (const r of rs) {
      for (const rule of rulesOf(r)) {
        for (const field of [rule.verbs, rule.resources ?? [], rule.apiGroups ?? []]) {
          assert.ok(!field.includes('*'), `${r.kind} ${r.metadata.name}: ${JSON.stringify(rule)}`);
        }
        assert.equal(rule.nonResourceURLs, undefined);
      }
    }
  });

  test('grants no escalate, bind or impersonate, and never get, list or watch on Secrets', () => {
    for (const r of roles(manifests)) {
      for (const rule of rulesOf(r)) {
        for (const v of ['escalate', 'bind', 'impersonate'])
          assert.ok(!rule.verbs.includes(v), `${r.metadata.name}: ${v}`);
        if (rule.resources?.includes('secrets')) {
          assert.deepEqual(
            rule.verbs.filter((v) => ['get', 'list', 'watch', 'delete', 'update'].includes(v)),
            [],
            `${r.metadata.name} reads or replaces Secrets`,
          );
          if (rule.verbs.includes('patch'))
            assert.deepEqual(
              rule.resourceNames,
              ['switchforge-worker-database'],
              'patch only the mirrored DSN Secret',
            );
        }
      }
    }
  });

  test('reads Secrets, for DeviceDiscovery logins, only with discovery.enabled, and then only by get', async () => {
    assert.deepEqual(secretRules(manifests).flat(), []);
    const enabled = (await template({ 'discovery.enabled': true })).manifests;
    assert.deepEqual(secretRules(enabled).flat(), ['get']);
  });

  test('reads Secrets, for DeviceInventory tokens and CAs, only with inventory.enabled, and then only by get', async () => {
    const enabled = (await template({ 'inventory.enabled': true })).manifests;
    assert.deepEqual(secretRules(enabled).flat(), ['get']);
    const both = (await template({ 'inventory.enabled': true, 'discovery.enabled': true })).manifests;
    assert.deepEqual(secretRules(both).flat(), ['get'], 'one rule for both');
  });

  test('lets the API neither write Secrets nor touch Deployments and pods beyond reading', () => {
    const api = roles(manifests).find((r) => r.metadata.name === `${releaseName}-switchforge-api`)!;
    for (const rule of rulesOf(api)) {
      assert.ok(!rule.resources?.includes('secrets'));
      assert.ok(!rule.resources?.includes('deployments'));
      if (rule.resources?.includes('pods')) assert.deepEqual(rule.verbs, ['get', 'list', 'watch']);
    }
  });
});

describe('the chart RBAC on a real kube-apiserver', () => {
  let infra: Infra;
  const ns = `rbac-${randomBytes(3).toString('hex')}`;
  const devices = `${ns}-devices`;
  const operatorSa = `system:serviceaccount:${ns}:${releaseName}-switchforge-operator`;
  const apiSa = `system:serviceaccount:${ns}:${releaseName}-switchforge-api`;
  const kubectl = (args: string[], input?: string) => infra.kubernetes.kubectl(args, input);
  /** `resource` may name a subresource after a colon: `devices.switchforge.io:status`. */
  const can = async (as: string, verb: string, resource: string, namespace = devices) => {
    const [res, sub] = resource.split(':');
    const args = [
      'auth',
      'can-i',
      verb,
      res!,
      '-n',
      namespace,
      `--as=${as}`,
      ...(sub ? [`--subresource=${sub}`] : []),
    ];
    return (await kubectl(args)).stdout.trim() === 'yes';
  };

  before(async () => {
    infra = await useInfra({ kubernetes: true });
    await installCrds(infra);
    for (const n of [ns, devices]) assert.equal((await kubectl(['create', 'namespace', n])).code, 0);
    // Only the identities and their roles: the Deployments would be run by a pod runner.
    const { manifests: all } = await template({}, ns);
    const rbac = all.filter((m) =>
      ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'].includes(m.kind),
    );
    // Cluster-scoped names carry the namespace, so suites sharing a cluster do not collide.
    const renamed = rbac.map((m) => {
      const copy = structuredClone(m) as Manifest & { roleRef?: { name: string } };
      if (m.kind.startsWith('Cluster')) copy.metadata.name = `${m.metadata.name}-${ns}`;
      if (m.kind === 'ClusterRoleBinding') copy.roleRef!.name = `${copy.roleRef!.name}-${ns}`;
      return copy;
    });
    const r = await kubectl(['apply', '-n', ns, '-f', '-'], renamed.map((m) => JSON.stringify(m)).join('\n'));
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => {
    for (const c of ['operator', 'api']) {
      await kubectl([
        'delete',
        'clusterrole,clusterrolebinding',
        `${releaseName}-switchforge-${c}-${ns}`,
        '--ignore-not-found',
        '--wait=false',
      ]);
    }
    await kubectl(['delete', 'namespace', ns, devices, '--wait=false']);
    await infra?.stop();
  });

  const operatorMay: [string, string, boolean][] = [
    ['create', 'deployments.apps', true],
    ['patch', 'deployments.apps', true],
    ['delete', 'deployments.apps', false],
    ['delete', 'pods', true],
    ['create', 'pods', false],
    ['patch', 'devices.switchforge.io:status', true],
    ['update', 'devices.switchforge.io', false],
    ['create', 'devices.switchforge.io', true],
    ['patch', 'devices.switchforge.io', true],
    ['delete', 'devices.switchforge.io', false],
    ['watch', 'deviceprofiles.switchforge.io', true],
    ['patch', 'deviceprofiles.switchforge.io:status', true],
    ['patch', 'deviceprofiles.switchforge.io', false],
    ['watch', 'devicediscoveries.switchforge.io', true],
    ['patch', 'devicediscoveries.switchforge.io:status', true],
    ['update', 'devicediscoveries.switchforge.io', false],
    ['update', 'devicediscoveries.switchforge.io:finalizers', true],
    ['watch', 'deviceinventories.switchforge.io', true],
    ['patch', 'deviceinventories.switchforge.io:status', true],
    ['update', 'deviceinventories.switchforge.io', false],
    ['update', 'deviceinventories.switchforge.io:finalizers', true],
    ['update', 'devices.switchforge.io:status', false],
    ['update', 'audiojobs.switchforge.io:finalizers', true],
    ['watch', 'leases.coordination.k8s.io', true],
    ['delete', 'leases.coordination.k8s.io', false],
    ['create', 'events', true],
    ['get', 'secrets', false],
    ['list', 'secrets', false],
    ['watch', 'secrets', false],
    ['patch', 'secrets/switchforge-worker-database', true],
    ['patch', 'secrets/someone-elses', false],
    ['delete', 'namespaces', false],
  ];
  for (const [verb, resource, allowed] of operatorMay) {
    test(`the operator ${allowed ? 'may' : 'may not'} ${verb} ${resource}`, async () => {
      assert.equal(await can(operatorSa, verb, resource), allowed);
    });
  }

  const apiMay: [string, string, boolean][] = [
    ['create', 'tokenreviews.authentication.k8s.io', true],
    ['create', 'subjectaccessreviews.authorization.k8s.io', true],
    ['create', 'audiojobs.switchforge.io', true],
    ['delete', 'audiojobs.switchforge.io', true],
    ['patch', 'devices.switchforge.io', true],
    ['delete', 'devices.switchforge.io', false],
    ['get', 'secrets', false],
    ['delete', 'pods', false],
  ];
  for (const [verb, resource, allowed] of apiMay) {
    test(`the API ${allowed ? 'may' : 'may not'} ${verb} ${resource}`, async () => {
      assert.equal(await can(apiSa, verb, resource), allowed);
    });
  }

  test("the operator may apply a device namespace's worker ServiceAccount, Role, RoleBinding and DSN Secret (no escalation)", async () => {
    // For real, as the operator does (server-side apply, creating then updating): the RoleBinding's
    // escalation check needs its Role to exist.
    const objects = namespaceObjects(devices, 'postgres://u:p@127.0.0.1:5432/db');
    for (const round of ['create', 'update']) {
      const r = await kubectl(
        ['apply', '--server-side', '--field-manager=switchforge-operator', `--as=${operatorSa}`, '-f', '-'],
        objects.map((o) => JSON.stringify(o)).join('\n'),
      );
      assert.equal(r.code, 0, `${round}: ${r.stderr}`);
      assert.equal(
        r.stdout.split('\n').filter((l) => l.includes('serverside-applied')).length,
        objects.length,
        r.stdout,
      );
    }
  });

  test("the leader election Role covers exactly the operator's Lease", async () => {
    assert.ok(await can(operatorSa, 'update', 'leases.coordination.k8s.io/switchforge-operator', ns));
  });
});
