// Users and roles (GET /users/, PATCH /users/{id}) and the e-mails that failed
// (GET /admin/outbox?status=failed, POST /admin/outbox/{id}/retry).
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback, useState } from "react";
import { adminListOutbox, adminRetryMessage, usersList, usersUpdate } from "../../client/sdk.gen";
import type { Role, UserOut } from "../../client/types.gen";
import { problem } from "../../errors";
import { useSession } from "../../session";
import { Outcome, useAction, type Action } from "./common";

const ROLES: Role[] = ["customer", "staff", "admin"];
const USERS = ["staff", "users"];
const FAILED = ["staff", "outbox", "failed"];
const LIMIT = 200;

function when(iso: string, zone: string): string {
  return new Intl.DateTimeFormat("en-GB", { dateStyle: "medium", timeStyle: "short", timeZone: zone }).format(new Date(iso));
}

export function Users() {
  const queries = useQueryClient();
  const { user: me } = useSession();
  const users = useQuery({
    queryKey: USERS,
    queryFn: async () => {
      const { data, error, response } = await usersList({ query: { limit: LIMIT } });
      if (error || !data) throw problem(error, response);
      return data;
    },
  });
  const refetch = useCallback(() => void queries.invalidateQueries({ queryKey: USERS }), [queries]);
  const action = useAction(refetch);
  const page = users.data;
  return (
    <section className="panel" aria-labelledby="console-users">
      <h2 id="console-users">Users and roles</h2>
      <Outcome action={action} />
      {users.isPending && <p role="status">Loading the users…</p>}
      {page && page.total > page.items.length && (
        <p className="hint">
          The first {page.items.length} of {page.total} accounts.
        </p>
      )}
      {page && (
        <div className="scroll">
          <table className="console-table">
            <caption className="sr-only">Accounts, their roles and whether they can sign in</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">E-mail</th>
                <th scope="col">Role</th>
                <th scope="col">Account</th>
              </tr>
            </thead>
            <tbody>
              {page.items.map((u) => (
                <UserRow key={u.id} user={u} self={me?.id === u.id} action={action} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function UserRow({ user, self, action }: { user: UserOut; self: boolean; action: Action }) {
  const [role, setRole] = useState<Role>(user.role);
  const who = user.name || user.email;
  const id = `role-${user.id}`;
  return (
    <tr className={user.is_active ? undefined : "inactive"}>
      <th scope="row">
        {user.name || "—"}
        {self && <span className="tag">you</span>}
      </th>
      <td>{user.email}</td>
      <td>
        <div className="inline-form">
          <label htmlFor={id} className="sr-only">
            Role for {who}
          </label>
          <select id={id} value={role} disabled={self} onChange={(e) => setRole(e.target.value as Role)}>
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
          <button
            type="button"
            disabled={role === user.role}
            onClick={() =>
              void action.act(() => usersUpdate({ path: { user_id: user.id }, body: { role } }), `${who} is now ${role}.`)
            }
          >
            Change role<span className="sr-only"> for {who}</span>
          </button>
        </div>
      </td>
      <td>
        {user.is_active ? "Active" : "Deactivated"}{" "}
        {!self && (
        <button
          type="button"
          className={user.is_active ? "danger" : undefined}
          onClick={() =>
            void action.act(
              () => usersUpdate({ path: { user_id: user.id }, body: { is_active: !user.is_active } }),
              user.is_active ? `${who} is deactivated and can no longer sign in.` : `${who} can sign in again.`,
            )
          }
        >
          {user.is_active ? "Deactivate" : "Reactivate"}
          <span className="sr-only"> {who}</span>
        </button>
        )}
      </td>
    </tr>
  );
}

export function FailedMail({ zone }: { zone: string }) {
  const queries = useQueryClient();
  const failed = useQuery({
    queryKey: FAILED,
    queryFn: async () => {
      const { data, error, response } = await adminListOutbox({ query: { status: "failed", limit: 100 } });
      if (error || !data) throw problem(error, response);
      return data;
    },
  });
  const refetch = useCallback(() => void queries.invalidateQueries({ queryKey: FAILED }), [queries]);
  const action = useAction(refetch);
  const items = failed.data?.items ?? [];
  return (
    <section className="panel" aria-labelledby="console-outbox">
      <div className="staff-head">
        <h2 id="console-outbox">E-mails that failed</h2>
        <button type="button" onClick={refetch}>
          Check again
        </button>
      </div>
      <Outcome action={action} />
      {failed.isPending && <p role="status">Loading…</p>}
      {failed.isError && <p className="form-error">{(failed.error as { message?: string }).message}</p>}
      {failed.isSuccess && items.length === 0 && <p className="empty">No e-mails have failed.</p>}
      {items.length > 0 && (
        <ul className="outbox">
          {items.map((m) => (
            <li key={m.id}>
              <div>
                <strong>{m.recipient}</strong> · {m.subject ?? m.kind.replace(/_/g, " ")}
                {m.booking_id !== null && <> · booking #{m.booking_id}</>}
              </div>
              <div className="hint">
                {m.attempts} attempt{m.attempts === 1 ? "" : "s"}, first queued {when(m.created_at, zone)}
                {m.last_error && <> · last error: {m.last_error}</>}
              </div>
              <button
                type="button"
                onClick={() =>
                  void action.act(() => adminRetryMessage({ path: { message_id: m.id } }), `The e-mail to ${m.recipient} is queued again.`)
                }
              >
                Retry<span className="sr-only"> the e-mail to {m.recipient}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
      {failed.data && failed.data.total > items.length && (
        <p className="hint">
          The latest {items.length} of {failed.data.total}.
        </p>
      )}
    </section>
  );
}
