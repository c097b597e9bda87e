/**
 * The smallest workflow that schedules an activity: run once by the dashboards test on a worker
 * in its own process, so SDK Core reports its task latencies (schedule-to-start, execution).
 */
import { proxyActivities } from '@temporalio/workflow';

const { ping } = proxyActivities<{ ping(): Promise<string> }>({ startToCloseTimeout: '30 seconds' });

export async function pingWorkflow(): Promise<string> {
  return ping();
}
