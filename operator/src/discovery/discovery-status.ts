/**
 * The DeviceDiscovery status a run implies, and when the next run is due. Pure: the reconciler
 * writes what these return and turns the outcome into an Event and a metric.
 */
import {
  formatTime,
  setConditionAt,
  type DeviceDiscovery,
  type DeviceDiscoveryStatus,
  type DiscoveredTarget,
  type FailedTarget,
} from '@switchforge/platform/crd';
import { FAILED_RETRY_MS, nextRunInMs as nextRun } from '../device-source/schedule.js';
import type { TargetVerdict } from './probe-result.js';

export interface RunResult {
  verdicts: { address: string; verdict: TargetVerdict; device?: string; conflict?: string }[];
  missing: number;
}

const MESSAGE_MAX = 1024;

export function runStatus(discovery: DeviceDiscovery, run: RunResult, now: Date): DeviceDiscoveryStatus {
  const found: DiscoveredTarget[] = [];
  const unreachable: FailedTarget[] = [];
  const refused: FailedTarget[] = [];
  for (const { address, verdict, device, conflict } of run.verdicts) {
    if (verdict.kind === 'found') {
      found.push({
        address,
        protocol: verdict.answer.protocol,
        port: verdict.answer.port,
        device: device ?? '',
        ...(conflict ? { conflict } : {}),
      });
    } else {
      const entry = { address, reason: verdict.reason, message: verdict.message.slice(0, MESSAGE_MAX) };
      (verdict.kind === 'refused' ? refused : unreachable).push(entry);
    }
  }
  const generation = discovery.metadata.generation;
  const summary = `found ${found.length}, unreachable ${unreachable.length}, refused ${refused.length}, missing ${run.missing}`;
  return {
    ...(generation === undefined ? {} : { observedGeneration: generation }),
    conditions: setConditionAt(
      discovery.status?.conditions,
      generation,
      { type: 'Ready', status: 'True', reason: 'RunSucceeded', message: summary },
      now,
    ),
    lastRunTime: formatTime(now),
    found,
    unreachable,
    refused,
    foundCount: found.length,
    unreachableCount: unreachable.length,
    refusedCount: refused.length,
    missingCount: run.missing,
  };
}

/** A run that could not start (bad targets, a missing Secret): Ready False, the lists kept. */
export function failedStatus(
  discovery: DeviceDiscovery,
  reason: string,
  message: string,
  now: Date,
): DeviceDiscoveryStatus {
  const generation = discovery.metadata.generation;
  return {
    ...discovery.status,
    ...(generation === undefined ? {} : { observedGeneration: generation }),
    conditions: setConditionAt(
      discovery.status?.conditions,
      generation,
      { type: 'Ready', status: 'False', reason, message },
      now,
    ),
    lastRunTime: formatTime(now),
  };
}

export { FAILED_RETRY_MS };

/**
 * Milliseconds until the next run: none (0) for a discovery never run or changed since its last
 * run, else what is left of `schedule.every` (at most FAILED_RETRY_MS after a failed run) after
 * lastRunTime.
 */
export function nextRunInMs(discovery: DeviceDiscovery, now: Date): number {
  return nextRun(discovery, discovery.status?.lastRunTime, now);
}
