import type { ConfigOf } from '@event-spine/config';
import { relayServiceConfig } from '@event-spine/platform';

export const outboxRelayConfig = relayServiceConfig({ httpPort: 3002 });

export type OutboxRelayConfig = ConfigOf<typeof outboxRelayConfig>;
