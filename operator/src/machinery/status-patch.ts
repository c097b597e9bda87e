import { PatchStrategy, setHeaderOptions, type CustomObjectsApi } from '@kubernetes/client-node';
import { GROUP, VERSION } from '@switchforge/platform/crd';

/** Merge-patches the status subresource of one of our custom objects (group switchforge.io). */
export async function patchStatus(
  customObjects: Pick<CustomObjectsApi, 'patchNamespacedCustomObjectStatus'>,
  object: { plural: string; namespace: string; name: string },
  status: unknown,
): Promise<void> {
  await customObjects.patchNamespacedCustomObjectStatus(
    { group: GROUP, version: VERSION, ...object, body: { status } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
}
