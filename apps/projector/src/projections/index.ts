import { accountBalances } from './account-balances.projection';
import { accountStatements } from './account-statements.projection';
import { tenantTotals } from './tenant-totals.projection';

/** Every projection the projector maintains. */
export const projections = [accountBalances, accountStatements, tenantTotals];
