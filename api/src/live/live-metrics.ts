import { metrics } from '@opentelemetry/api';

/** The live path's instruments, shared by the hub and every way of delivering to subscribers. */
const meter = metrics.getMeter('switchforge-api');

export const messagesDelivered = meter.createCounter('switchforge.api.live.messages.delivered', {
  description: 'Live messages queued or written to subscribers (fan-out)',
});

export const messagesDropped = meter.createCounter('switchforge.api.live.messages.dropped', {
  description: 'Live messages dropped because a subscriber read too slowly (its queue was full)',
});

export const activeSubscriptions = meter.createUpDownCounter('switchforge.api.live.subscriptions', {
  description: 'Active live device subscriptions on this replica',
});

export const payloadsRendered = meter.createCounter('switchforge.api.live.payloads.rendered', {
  description:
    'Live message payloads executed and serialised (once per distinct operation per event, shared by identical subscriptions)',
});
