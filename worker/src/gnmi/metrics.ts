/** Protocol-level counters of the gNMI collector (the SDK is set up by the process entrypoint). */
import { metrics } from '@opentelemetry/api';

const meter = metrics.getMeter('switchforge-worker');

export const gnmiMetrics = {
  notifications: meter.createCounter('switchforge.gnmi.notifications.received', {
    description: 'gNMI notifications received from targets',
    unit: '{notification}',
  }),
  updates: meter.createCounter('switchforge.gnmi.updates.received', {
    description: 'Samples decoded from gNMI updates and deletes',
    unit: '{update}',
  }),
  malformed: meter.createCounter('switchforge.gnmi.updates.malformed', {
    description: 'gNMI updates or responses that could not be decoded and were skipped',
    unit: '{update}',
  }),
  syncs: meter.createCounter('switchforge.gnmi.sync_responses.received', {
    description: 'gNMI sync_response messages received',
    unit: '{message}',
  }),
};
