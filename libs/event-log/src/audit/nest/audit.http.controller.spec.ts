import type { DataSource } from 'typeorm';
import type { Principal } from '@event-spine/auth';
import { AuditHttpController } from './audit.http.controller';

describe('AuditHttpController', () => {
  const principal: Principal = { actorId: 'a', actorType: 'user', tenantId: 't', spaceId: 's', roles: ['admin'] };

  it('refuses to take a checkpoint without a signing key, with a code that says so', async () => {
    const db = { transaction: jest.fn() } as unknown as DataSource;
    const controller = new AuditHttpController(db, {});
    await expect(controller.create(principal)).rejects.toMatchObject({
      statusCode: 409,
      code: 'AUDIT_SIGNING_KEY_MISSING',
    });
    expect(db.transaction).not.toHaveBeenCalled();
  });
});
