/**
 * Kubernetes status conditions (the metav1.Condition shape) and the one pure helper every
 * controller needs to update them without resetting lastTransitionTime on every reconcile.
 */

export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface Condition {
  /** CamelCase, e.g. Ready, Connected. Unique within a status. */
  type: string;
  status: ConditionStatus;
  /** CamelCase, machine readable; the cause of the current status (e.g. AuthFailed). */
  reason: string;
  /** For people; may be empty. */
  message: string;
  /** RFC 3339: when status last changed, not when the condition was last written. */
  lastTransitionTime: string;
  /** The metadata.generation the condition was computed from. */
  observedGeneration?: number;
}

/** What a controller says about a condition; setCondition fills in lastTransitionTime. */
export type ConditionUpdate = Omit<Condition, 'lastTransitionTime' | 'message'> & { message?: string };

/** Seconds precision, as the apiserver stores metav1.Time. */
export function formatTime(time: Date): string {
  return `${time.toISOString().slice(0, 19)}Z`;
}

/**
 * Returns a new condition list with `next` set: an existing condition of the same type is
 * replaced in place (order kept), a new one is appended. lastTransitionTime changes only when
 * the status changes, so that "for how long has this been false" stays answerable. The input is
 * not modified.
 */
export function setCondition(
  conditions: readonly Condition[] | undefined,
  next: ConditionUpdate,
  now: Date,
): Condition[] {
  const list = conditions ?? [];
  const previous = list.find((c) => c.type === next.type);
  const condition: Condition = {
    type: next.type,
    status: next.status,
    reason: next.reason,
    message: next.message ?? '',
    lastTransitionTime:
      previous !== undefined && previous.status === next.status
        ? previous.lastTransitionTime
        : formatTime(now),
    ...(next.observedGeneration === undefined ? {} : { observedGeneration: next.observedGeneration }),
  };
  return previous === undefined
    ? [...list, condition]
    : list.map((c) => (c.type === next.type ? condition : c));
}

/**
 * setCondition for an object at `generation`: the condition's observedGeneration is the object's
 * (left out when the object has none).
 */
export function setConditionAt(
  conditions: readonly Condition[] | undefined,
  generation: number | undefined,
  next: Omit<ConditionUpdate, 'observedGeneration'>,
  now: Date,
): Condition[] {
  return setCondition(
    conditions,
    { ...next, ...(generation === undefined ? {} : { observedGeneration: generation }) },
    now,
  );
}

export function findCondition(
  conditions: readonly Condition[] | undefined,
  type: string,
): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

export function isConditionTrue(conditions: readonly Condition[] | undefined, type: string): boolean {
  return findCondition(conditions, type)?.status === 'True';
}

/** Returns a new list without the condition of that type. */
export function removeCondition(conditions: readonly Condition[] | undefined, type: string): Condition[] {
  return (conditions ?? []).filter((c) => c.type !== type);
}
