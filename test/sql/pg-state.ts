import type { TestDatabase } from '../support/pg-database.js';

/**
 * Everything a preview must leave as it was: the database as pg_dump sees it (schema,
 * ACLs, sequence positions, every row) plus the cluster-wide roles, their attributes
 * and memberships that belong to this test database.
 */
export async function databaseState(db: TestDatabase): Promise<string> {
  const roles = await db.query(
    `SELECT r.rolname, r.rolsuper, r.rolcreaterole, r.rolcreatedb, r.rolcanlogin,
            ARRAY(SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = r.oid ORDER BY 1) AS member_of
       FROM pg_roles r WHERE r.rolname LIKE $1 ORDER BY r.rolname`,
    [`${db.name}\\_%`],
  );
  return `${await db.dump()}\n-- roles\n${JSON.stringify(roles.rows)}`;
}
