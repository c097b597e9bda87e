import type { PoolScaling } from '../config.js';

/**
 * How many audio workers the pool should run. Pure. Up at once, to what the backlog needs
 * (ceil(backlog / backlogPerReplica)); down one replica at a time, and only after the cool-down
 * since the last scale, so a burst of short jobs does not make the pool flap. Always within
 * [minReplicas, maxReplicas].
 */
export function desiredReplicas(
  current: number,
  backlog: number,
  settings: PoolScaling,
  lastScaleTime: Date | undefined,
  now: Date,
): number {
  const { minReplicas: min, maxReplicas: max } = settings;
  const clamp = (n: number) => Math.max(min, Math.min(max, n));
  const have = clamp(current);
  // Outside the bounds (a config change, someone's `kubectl scale`): back inside at once.
  if (have !== current) return have;
  const needed = clamp(Math.ceil(Math.max(0, backlog) / settings.backlogPerReplica));
  if (backlog > have * settings.backlogPerReplica) return Math.max(have, needed);
  if (needed < have) {
    const cooled = !lastScaleTime || now.getTime() - lastScaleTime.getTime() >= settings.scaleDownCooldownMs;
    return cooled ? have - 1 : have;
  }
  return have;
}
