export { LeaseLock, isStatus, type LeaseLockOptions, type LeaseOutcome } from './lease-lock.js';
export { runWithLeaderElection, type LeaderElectionOptions } from './leader-election.js';
