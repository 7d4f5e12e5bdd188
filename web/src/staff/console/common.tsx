// What every section of the manager's console shares: running one API call with its
// outcome shown beside the form (an error tied to the fields it names, or a status
// message after saving), and the bookings a change would strand, shown before confirming.
import { useCallback, useId, useState } from "react";
import type { AffectedBooking, MovedBooking } from "../../client/types.gen";
import { FormError } from "../../components/Field";
import { formatDate, hhmm } from "../../dates";
import { offline, problem, type Problem } from "../../errors";

export type Answer<T = unknown> = { data?: T; error?: unknown; response?: Response };

/** The bookings a change would strand (the API's 409 `affected`), or null. */
export function strandedBy(answer: Answer): AffectedBooking[] | null {
  if (answer.response?.status !== 409) return null;
  const affected = (answer.error as { affected?: AffectedBooking[] } | undefined)?.affected;
  return affected && affected.length > 0 ? affected : null;
}

/** What a change that went ahead did to bookings, in words ("" when nothing). */
export function strandOutcome(data: { moved?: MovedBooking[]; cancelled?: AffectedBooking[] } | undefined): string {
  const moved = data?.moved?.length ?? 0;
  const cancelled = data?.cancelled?.length ?? 0;
  const parts = [
    moved ? `${moved} booking${moved === 1 ? "" : "s"} moved to another table` : "",
    cancelled ? `${cancelled} booking${cancelled === 1 ? "" : "s"} cancelled (each guest e-mailed why)` : "",
  ].filter(Boolean);
  return parts.length ? ` ${parts.join("; ")}.` : "";
}

export interface Action {
  /** Runs the call; on success shows `done` (or what it returns from the data). */
  act: <T>(call: () => Promise<Answer<T>>, done: string | ((data: T | undefined) => string)) => Promise<Answer<T> | null>;
  error: Problem | null;
  notice: string | null;
  clear: () => void;
  fail: (message: string) => void;
  say: (message: string) => void;
}

/** One form's call and outcome. `after` runs after every success (a refetch). */
export function useAction(after?: () => void): Action {
  const [error, setError] = useState<Problem | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const clear = useCallback(() => {
    setError(null);
    setNotice(null);
  }, []);
  const fail = useCallback((message: string) => {
    setNotice(null);
    setError({ message, fields: {}, alternatives: [] });
  }, []);
  const say = useCallback((message: string) => {
    setError(null);
    setNotice(message);
  }, []);
  const act = useCallback(
    async <T,>(call: () => Promise<Answer<T>>, done: string | ((data: T | undefined) => string)) => {
      setError(null);
      setNotice(null);
      let answer: Answer<T>;
      try {
        answer = await call();
      } catch {
        setError(offline);
        return null;
      }
      if (!answer.response) {
        setError(offline);
        return answer;
      }
      if (answer.error !== undefined || !answer.response.ok) {
        setError(problem(answer.error, answer.response));
        return answer;
      }
      setNotice(typeof done === "string" ? done : done(answer.data));
      after?.();
      return answer;
    },
    [after],
  );
  return { act, error, notice, clear, fail, say };
}

/** A form's outcome: the error (read out at once) and the status after saving. */
export function Outcome({ action, errorOnly }: { action: Action; errorOnly?: boolean }) {
  return (
    <>
      <FormError message={action.error?.message} />
      {!errorOnly && (
        <p role="status" className={action.notice ? "notice" : "sr-only"}>
          {action.notice ?? ""}
        </p>
      )}
    </>
  );
}

/** The bookings a change would strand, with the way to go ahead anyway. */
export function Stranded({
  affected,
  confirm,
  onConfirm,
  onKeep,
}: {
  affected: AffectedBooking[];
  confirm: string;
  onConfirm: () => void;
  onKeep: () => void;
}) {
  const title = useId();
  return (
    <div className="stranded" role="group" aria-labelledby={title}>
      <h4 id={title}>
        {affected.length} confirmed booking{affected.length === 1 ? "" : "s"} would be affected
      </h4>
      <ul>
        {affected.map((b) => (
          <li key={b.id}>
            {formatDate(b.date, "short")} {hhmm(b.time)} · {b.guest_name ?? `Booking #${b.id}`} · {b.party_size} · table{" "}
            {b.table_number} — {b.reason}
          </li>
        ))}
      </ul>
      <div className="actions">
        <button type="button" className="danger" onClick={onConfirm}>
          {confirm}
        </button>
        <button type="button" onClick={onKeep}>
          Keep things as they are
        </button>
      </div>
    </div>
  );
}

/** A whole number from a field, or null when it is not one. */
export function whole(value: string): number | null {
  const text = value.trim();
  return /^-?\d+$/.test(text) ? Number(text) : null;
}
