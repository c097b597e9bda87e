// No @kubernetes/client-node here: the device worker imports this (see client-node-leases.ts).
export {
  LeaseLock,
  isStatus,
  microTime,
  type LeaseClient,
  type LeaseLockOptions,
  type LeaseObject,
  type LeaseOutcome,
  type LeaseOwnerReference,
} from './lease-lock.js';
export { runWithLeaderElection, type LeaderElectionOptions } from './leader-election.js';
