import type { ConfigOf } from '@event-spine/config';
import { projectorServiceConfig } from '@event-spine/platform';

export const projectorConfig = projectorServiceConfig({ httpPort: 3001, groupId: 'spine-projector' });

export type ProjectorConfig = ConfigOf<typeof projectorConfig>;
