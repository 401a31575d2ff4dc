import type { EntityManager } from '@mikro-orm/postgresql';
import { col, queryRow, row, RowShapeError, type Column } from '../../db/typed-sql.js';
import { ROLES, type Role, type UserView } from './user.entity.js';

/** The raw SQL of users: the plain view authentication caches. */

const role: Column<Role> = (value, column) => {
  if (typeof value === 'string' && (ROLES as readonly string[]).includes(value)) return value as Role;
  throw new RowShapeError(column, 'a role', value);
};

const userViewRow = row<UserView>({
  id: col.uuid,
  email: col.text,
  role,
  firstName: col.nullable(col.text),
  lastName: col.nullable(col.text),
  isActive: col.bool,
  createdAt: col.timestamp,
});

/** A user as the API shows it, without building an entity; null when there is none. */
export async function findUserView(em: EntityManager, id: string): Promise<UserView | null> {
  const user = await queryRow(
    em,
    userViewRow,
    `select "id", "email", "role", "first_name" as "firstName", "last_name" as "lastName", "is_active" as "isActive", "created_at" as "createdAt"
     from "user" where "id" = :id`,
    { id },
  );
  return user && Object.freeze(user);
}
