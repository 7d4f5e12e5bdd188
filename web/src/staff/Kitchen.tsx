import { useCallback, useEffect, useState } from "react";
import { kitchenQueue, kitchenUndo, kitchenUpdateTicket } from "../client/sdk.gen";
import type { TicketOut, TicketStatus } from "../client/types.gen";
import { problem } from "../errors";
import { useTitle } from "../restaurant";
import { LiveBadge, useLiveStream } from "./live";

const NEXT: Partial<Record<TicketStatus, TicketStatus>> = {
  pending: "preparing",
  preparing: "ready",
  ready: "served",
};
const STATIONS = ["kitchen", "bar"] as const;
const EVENTS = ["ticket_created", "ticket_updated", "ticket_removed", "ticket_cancelled"];

function since(iso: string, now: number): string {
  const minutes = Math.max(0, Math.floor((now - Date.parse(iso)) / 60_000));
  return minutes < 60 ? `${minutes} min` : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** The kitchen display on the pass: tickets by station, oldest first, live. */
export function KitchenPage() {
  useTitle("Kitchen");
  const [tickets, setTickets] = useState<Map<number, TicketOut>>(new Map());
  const [error, setError] = useState<string | null>(null);
  const [lastMoved, setLastMoved] = useState<number | null>(null);
  const [now, setNow] = useState(() => Date.now());

  useEffect(() => {
    const tick = setInterval(() => setNow(Date.now()), 15_000);
    return () => clearInterval(tick);
  }, []);

  // The whole queue, on opening and on every (re)connection; events keep it current.
  const load = useCallback(async () => {
    const { data, error: failed, response } = await kitchenQueue();
    if (failed || !data) {
      setError(problem(failed, response).message);
      return;
    }
    setError(null);
    setTickets((current) => {
      const next = new Map<number, TicketOut>();
      for (const t of current.values()) if (t.status === "cancelled") next.set(t.id, t); // still on show
      for (const t of data) next.set(t.id, t);
      return next;
    });
  }, []);

  const onEvent = useCallback((type: string, data: unknown) => {
    const ticket = data as TicketOut | null;
    if (!ticket || typeof ticket.id !== "number") return;
    setTickets((current) => {
      const next = new Map(current);
      if (type === "ticket_removed" || ticket.status === "served") next.delete(ticket.id);
      else next.set(ticket.id, type === "ticket_cancelled" ? { ...ticket, status: "cancelled" } : ticket);
      return next;
    });
  }, []);

  const live = useLiveStream("/api/kitchen/stream", EVENTS, onEvent, load);

  async function advance(ticket: TicketOut) {
    const status = NEXT[ticket.status];
    if (!status) return;
    const { data, error: failed, response } = await kitchenUpdateTicket({
      path: { ticket_id: ticket.id },
      body: { status },
    });
    if (failed || !data) {
      setError(problem(failed, response).message);
      return;
    }
    setLastMoved(ticket.id);
    onEvent("ticket_updated", data);
  }

  async function undo(id: number) {
    const { data, error: failed, response } = await kitchenUndo({ path: { ticket_id: id }, body: {} });
    if (failed || !data) {
      setError(problem(failed, response).message);
      return;
    }
    setLastMoved(null);
    onEvent("ticket_updated", data);
    if (data.status !== "served") setTickets((current) => new Map(current).set(data.id, data));
  }

  const dismiss = (id: number) =>
    setTickets((current) => {
      const next = new Map(current);
      next.delete(id);
      return next;
    });

  const all = [...tickets.values()].sort((a, b) => a.created_at.localeCompare(b.created_at));
  return (
    <main id="main" className="kitchen">
      <div className="staff-head">
        <h1>Kitchen display</h1>
        <LiveBadge state={live} />
        {lastMoved !== null && (
          <button type="button" className="big" onClick={() => void undo(lastMoved)}>
            Undo last tap (#{lastMoved})
          </button>
        )}
      </div>
      <div role="alert" className={error ? "form-error" : "sr-only"}>
        {error ?? ""}
      </div>
      <div className="stations">
        {STATIONS.map((station) => {
          const own = all.filter((t) => t.station === station);
          return (
            <section key={station} aria-labelledby={`station-${station}`} className="station">
              <h2 id={`station-${station}`}>
                {station === "kitchen" ? "Kitchen" : "Bar"} ({own.filter((t) => t.status !== "cancelled").length})
              </h2>
              {own.length === 0 && <p className="hint">Nothing waiting.</p>}
              <ul className="tickets">
                {own.map((t) => (
                  <li key={t.id}>
                    <article className={`ticket ticket-${t.status}`} aria-label={`Ticket ${t.id}, table ${t.table_number ?? "none"}, ${t.status}`}>
                      <header>
                        <strong>Table {t.table_number ?? "—"}</strong>
                        <span className="timer">{since(t.created_at, now)}</span>
                      </header>
                      <ul className="items">
                        {t.items.map((item) => (
                          <li key={item.order_item_id}>
                            {item.quantity} × {item.name}
                            {item.seat_number ? <span className="seat"> · seat {item.seat_number}</span> : null}
                            {item.notes ? <span className="note"> — {item.notes}</span> : null}
                          </li>
                        ))}
                      </ul>
                      {t.status === "cancelled" ? (
                        <button type="button" className="big" onClick={() => dismiss(t.id)}>
                          Cancelled — clear
                        </button>
                      ) : (
                        <button type="button" className={`big status-${t.status}`} onClick={() => void advance(t)}>
                          {t.status} → {NEXT[t.status]}
                        </button>
                      )}
                    </article>
                  </li>
                ))}
              </ul>
            </section>
          );
        })}
      </div>
    </main>
  );
}
