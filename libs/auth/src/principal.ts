/** Who is calling, from the verified bearer token. */
export interface Principal {
  actorId: string;
  actorType: string;
  tenantId: string;
  spaceId: string;
  roles: readonly string[];
}

export const ADMIN_ROLE = 'admin';

export function isAdmin(principal: Principal): boolean {
  return principal.roles.includes(ADMIN_ROLE);
}
