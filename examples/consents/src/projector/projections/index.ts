import { consentStatus } from './consent-status.projection';
import { creditPullEvidence } from './credit-pull-evidence.projection';

/** Every projection of the consents projector. */
export const projections = [consentStatus, creditPullEvidence];
