import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback, useState, type FormEvent } from "react";
import {
  bookingsCancel,
  bookingsChange,
  bookingsComplete,
  bookingsCreate,
  bookingsList,
  bookingsNoShow,
  bookingsSeat,
  guestsGet,
  guestsList,
  ordersCreate,
  tablesAvailable,
  tablesClean,
  tablesList,
  tablesMerge,
  tablesRelease,
} from "../client/sdk.gen";
import type { BookingOut, TableView } from "../client/types.gen";
import { Field, FormError } from "../components/Field";
import { formatDate, hhmm, restaurantNow, toMinutes, weekday } from "../dates";
import { problem, type Problem } from "../errors";
import { useTitle, type Restaurant } from "../restaurant";
import { LiveBadge, useLiveStream } from "./live";
import { OrderPanel, useOrder } from "./Order";

type Answer = { error?: unknown; response?: Response };

/** A guest's record (notes, allergies, history), cached for the screen. */
function useGuest(id: number | null | undefined) {
  return useQuery({
    queryKey: ["staff", "guest", id],
    enabled: typeof id === "number",
    staleTime: 30_000,
    queryFn: async () => {
      const { data, error, response } = await guestsGet({ path: { guest_id: id! } });
      if (error || !data) throw problem(error, response);
      return data;
    },
  });
}

function localTime(iso: string, zone: string): string {
  return new Intl.DateTimeFormat("en-GB", { timeZone: zone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(
    new Date(iso),
  );
}

/** The host stand: the floor, the day's bookings, walk-ins and guests, all live. */
export function HostPage({ restaurant }: { restaurant: Restaurant }) {
  useTitle("Host stand");
  const today = restaurantNow(restaurant.timezone).date;
  const [day, setDay] = useState(today);
  const queries = useQueryClient();
  const [selected, setSelected] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  const tables = useQuery({
    queryKey: ["staff", "tables"],
    queryFn: async () => {
      const { data, error: failed, response } = await tablesList();
      if (failed || !data) throw problem(failed, response);
      return data;
    },
  });
  const bookings = useQuery({
    queryKey: ["staff", "bookings", day],
    queryFn: async () => {
      const { data, error: failed, response } = await bookingsList({ query: { date: day, limit: 200 } });
      if (failed || !data) throw problem(failed, response);
      return data.items;
    },
  });

  const refetch = useCallback(() => void queries.invalidateQueries({ queryKey: ["staff"] }), [queries]);
  const live = useLiveStream("/api/floor/stream", ["table_changed", "booking_changed"], refetch, refetch);

  async function act(action: () => Promise<Answer>, done: string) {
    setError(null);
    setNotice(null);
    const result = await action();
    if (result.error) {
      setError(problem(result.error, result.response).message);
      return false;
    }
    setNotice(done);
    refetch();
    return true;
  }

  const list = tables.data ?? [];
  const table = list.find((t) => t.id === selected) ?? null;
  return (
    <main id="main" className="host">
      <div className="staff-head">
        <h1>Host stand</h1>
        <LiveBadge state={live} />
      </div>
      <FormError message={error} />
      <p role="status" className={notice ? "notice" : "sr-only"}>
        {notice ?? ""}
      </p>
      <div className="host-grid">
        <section className="panel floor-panel" aria-labelledby="floor-title">
          <h2 id="floor-title">Floor</h2>
          <ul className="legend" aria-label="Table colours">
            <li><span className="table-box-key available" style={{ borderColor: "#1e6b35", background: "#fff" }} />available</li>
            <li><span style={{ borderColor: "#8a5a00", background: "#fff4d6" }} />reserved</li>
            <li><span style={{ borderColor: "#a4161a", background: "#fde2dd" }} />occupied</li>
            <li><span style={{ borderColor: "#1a56db", background: "#e6eef8" }} />cleaning</li>
          </ul>
          <FloorPlan tables={list} zone={restaurant.timezone} selected={selected} onSelect={setSelected} />
          {table && (
            <TablePanel
              table={table}
              tables={list}
              act={act}
              onClose={() => setSelected(null)}
            />
          )}
        </section>
        <section className="panel" aria-labelledby="today-title">
          <h2 id="today-title">{day === today ? "Today's bookings" : `Bookings on ${formatDate(day)}`}</h2>
          <div className="field">
            <label htmlFor="host-day">Day</label>
            <input id="host-day" type="date" value={day} onChange={(e) => setDay(e.target.value || today)} />
          </div>
          {bookings.isPending && <p role="status">Loading…</p>}
          {bookings.isSuccess && bookings.data.length === 0 && <p>No bookings today.</p>}
          <ul className="day-list">
            {(bookings.data ?? []).map((b) => (
              <BookingRow key={b.id} booking={b} act={act} tables={list} />
            ))}
          </ul>
        </section>
        <Timeline restaurant={restaurant} day={day} tables={list} bookings={bookings.data ?? []} />
        <PhoneBooking act={act} day={day} />
        <WalkIn act={act} tables={list} zone={restaurant.timezone} />
        <GuestSearch />
      </div>
    </main>
  );
}

function FloorPlan({
  tables,
  zone,
  selected,
  onSelect,
}: {
  tables: TableView[];
  zone: string;
  selected: number | null;
  onSelect: (id: number) => void;
}) {
  const placed = tables.filter((t) => t.pos_x !== null && t.pos_y !== null);
  const right = Math.max(10, ...placed.map((t) => (t.pos_x ?? 0) + t.width));
  const bottom = Math.max(10, ...placed.map((t) => (t.pos_y ?? 0) + t.height));
  const left = Math.min(...placed.map((t) => t.pos_x ?? 0), right);
  const top = Math.min(...placed.map((t) => t.pos_y ?? 0), bottom);
  const spanX = right - left + 2;
  const spanY = bottom - top + 2;
  // Merged tables are drawn as one: an outline around each group's tables.
  const groups = [...new Set(placed.map((t) => t.merge_group).filter((g): g is number => g !== null))].map((id) => {
    const members = placed.filter((t) => t.merge_group === id);
    return {
      id,
      x1: Math.min(...members.map((t) => t.pos_x!)) - 0.3,
      y1: Math.min(...members.map((t) => t.pos_y!)) - 0.3,
      x2: Math.max(...members.map((t) => t.pos_x! + t.width)) + 0.3,
      y2: Math.max(...members.map((t) => t.pos_y! + t.height)) + 0.3,
    };
  });
  return (
    <div className="floor" style={{ aspectRatio: `${spanX} / ${spanY}` }}>
      {placed.map((t) => {
        const next = t.next_booking ?? t.held_for_booking;
        return (
          <button
            key={t.id}
            type="button"
            data-table={t.table_number}
            data-x={t.pos_x ?? undefined}
            data-y={t.pos_y ?? undefined}
            className={`table-box ${t.status}${t.shape === "round" ? " round" : ""}${t.merge_group ? " merged" : ""}${selected === t.id ? " selected" : ""}`}
            style={{
              left: `${(((t.pos_x ?? 0) - left + 1) / spanX) * 100}%`,
              top: `${(((t.pos_y ?? 0) - top + 1) / spanY) * 100}%`,
              width: `${(t.width / spanX) * 100}%`,
              height: `${(t.height / spanY) * 100}%`,
              transform: t.rotation ? `rotate(${t.rotation}deg)` : undefined,
            }}
            aria-pressed={selected === t.id}
            aria-label={`Table ${t.table_number}, ${t.capacity} seats, ${t.status}${t.merged_with.length ? `, merged with ${t.merged_with.join(" and ")}` : ""}${next ? `, next booking ${localTime(next.starts_at, zone)} for ${next.party_size}` : ""}`}
            onClick={() => onSelect(t.id)}
          >
            <strong>{t.table_number}</strong>
            <span className="state-word">{t.status}</span>
            {t.status === "occupied" && t.occupied_since ? (
              <span className="when">since {localTime(t.occupied_since, zone)}</span>
            ) : (
              next && <span className="when">{localTime(next.starts_at, zone)}·{next.party_size}</span>
            )}
          </button>
        );
      })}
      {groups.map((g) => (
        <div
          key={g.id}
          className="merge-outline"
          aria-hidden="true"
          style={{
            left: `${((g.x1 - left + 1) / spanX) * 100}%`,
            top: `${((g.y1 - top + 1) / spanY) * 100}%`,
            width: `${((g.x2 - g.x1) / spanX) * 100}%`,
            height: `${((g.y2 - g.y1) / spanY) * 100}%`,
          }}
        />
      ))}
      {placed.length < tables.length && (
        <p className="hint">{tables.length - placed.length} tables are not on the plan yet.</p>
      )}
    </div>
  );
}

function TablePanel({
  table,
  tables,
  act,
  onClose,
}: {
  table: TableView;
  tables: TableView[];
  act: (action: () => Promise<Answer>, done: string) => Promise<boolean>;
  onClose: () => void;
}) {
  const [other, setOther] = useState("");
  const [confirming, setConfirming] = useState(false);
  const order = useOrder(table.current_order_id);
  const unpaid = order.data?.status === "open";
  const mergeable = tables.filter((t) => t.id !== table.id && t.status === "available" && !t.merge_group);
  return (
    <div className="table-panel" role="group" aria-labelledby="table-panel-title">
      <h3 id="table-panel-title">
        Table {table.table_number} · {table.capacity} seats · {table.status}
        {table.merged_with.length > 0 && ` · merged with ${table.merged_with.join(", ")}`}
      </h3>
      <div className="actions">
        {(table.status === "occupied" || table.merge_group !== null) && !confirming && (
          <button
            type="button"
            onClick={() =>
              unpaid
                ? setConfirming(true)
                : void act(() => tablesRelease({ path: { table_id: table.id } }), `Table ${table.table_number} released`)
            }
          >
            Release
          </button>
        )}
        {confirming && (
          <>
            <p role="alert">
              Order #{table.current_order_id} is still open: close the bill first if they have paid. Release the table
              anyway (the order stays open, to be settled at the till)?
            </p>
            <button
              type="button"
              onClick={() => {
                setConfirming(false);
                void act(() => tablesRelease({ path: { table_id: table.id } }), `Table ${table.table_number} released`);
              }}
            >
              Release anyway
            </button>
            <button type="button" onClick={() => setConfirming(false)}>
              Keep the table
            </button>
          </>
        )}
        {table.status === "cleaning" && (
          <button type="button" onClick={() => void act(() => tablesClean({ path: { table_id: table.id } }), `Table ${table.table_number} is clean`)}>
            Mark clean
          </button>
        )}
        <button type="button" onClick={onClose}>
          Close panel
        </button>
      </div>
      {table.status === "occupied" && table.current_order_id !== null && <OrderPanel table={table} act={act} />}
      {table.status === "available" && mergeable.length > 0 && (
        <div className="field">
          <label htmlFor="merge-with">Merge with</label>
          <select id="merge-with" value={other} onChange={(e) => setOther(e.target.value)}>
            <option value="">Choose a table</option>
            {mergeable.map((t) => (
              <option key={t.id} value={t.id}>
                Table {t.table_number} ({t.capacity} seats)
              </option>
            ))}
          </select>
          <button
            type="button"
            disabled={!other}
            onClick={() =>
              void act(
                () => tablesMerge({ path: { table_id_1: table.id, table_id_2: Number(other) } }),
                `Tables ${table.table_number} and ${tables.find((t) => t.id === Number(other))?.table_number} merged`,
              )
            }
          >
            Merge
          </button>
        </div>
      )}
    </div>
  );
}

function BookingRow({
  booking,
  act,
  tables,
}: {
  booking: BookingOut;
  act: (action: () => Promise<Answer>, done: string) => Promise<boolean>;
  tables: TableView[];
}) {
  const id = { path: { booking_id: booking.id } };
  const who = booking.guest?.name ?? `Booking #${booking.id}`;
  const [moving, setMoving] = useState(false);
  const [time, setTime] = useState(hhmm(booking.time));
  const [tableId, setTableId] = useState(String(booking.table_id));
  const fitting = tables.filter((t) => t.capacity >= booking.party_size);
  const guest = useGuest(booking.guest?.id);
  const move = async (event: FormEvent) => {
    event.preventDefault();
    const body: { time?: string; table_id?: number } = {};
    if (time !== hhmm(booking.time)) body.time = time;
    if (Number(tableId) !== booking.table_id) body.table_id = Number(tableId);
    if (await act(() => bookingsChange({ ...id, body }), `${who}'s booking changed`)) setMoving(false);
  };
  return (
    <li className={`day-row status-${booking.status}`}>
      <div>
        <strong>{hhmm(booking.time)}</strong> · {who} · {booking.party_size} · table {booking.table_number} ·{" "}
        <span className="state">{booking.status}</span>
        {booking.special_requests && <div className="hint">{booking.special_requests}</div>}
        {guest.data?.allergies && <div className="allergy">Allergies: {guest.data.allergies}</div>}
        {guest.data?.notes && <div className="hint">Guest notes: {guest.data.notes}</div>}
      </div>
      {booking.status === "confirmed" && (
        <div className="actions">
          <button type="button" onClick={() => void act(() => bookingsSeat({ ...id, body: {} }), `${who} seated at table ${booking.table_number}`)}>
            Seat {who}
          </button>
          <button type="button" onClick={() => void act(() => bookingsNoShow(id), `${who} marked as a no-show`)}>
            No-show
          </button>
          <button type="button" onClick={() => setMoving(!moving)} aria-expanded={moving}>
            Change
          </button>
          <button type="button" className="danger" onClick={() => void act(() => bookingsCancel(id), `${who}'s booking cancelled`)}>
            Cancel
          </button>
        </div>
      )}
      {moving && (
        <form className="inline-form" onSubmit={move} aria-label={`Change ${who}'s booking`}>
          <label htmlFor={`move-time-${booking.id}`}>Time</label>
          <input id={`move-time-${booking.id}`} type="time" step={900} value={time} onChange={(e) => setTime(e.target.value)} />
          <label htmlFor={`move-table-${booking.id}`}>Table</label>
          <select id={`move-table-${booking.id}`} value={tableId} onChange={(e) => setTableId(e.target.value)}>
            {fitting.map((t) => (
              <option key={t.id} value={t.id}>
                {t.table_number} ({t.capacity} seats)
              </option>
            ))}
          </select>
          <button type="submit">Save change</button>
        </form>
      )}
      {booking.status === "seated" && (
        <div className="actions">
          <button type="button" onClick={() => void act(() => bookingsComplete(id), `${who} has left`)}>
            Complete
          </button>
        </div>
      )}
    </li>
  );
}

function WalkIn({
  act,
  tables,
  zone,
}: {
  act: (action: () => Promise<Answer>, done: string) => Promise<boolean>;
  tables: TableView[];
  zone: string;
}) {
  const [party, setParty] = useState(2);
  const [name, setName] = useState("");
  const free = useQuery({
    queryKey: ["staff", "free", party],
    queryFn: async () => {
      const { data, error, response } = await tablesAvailable({ query: { party_size: party } });
      if (error || !data) throw problem(error, response);
      return data;
    },
  });
  const freeIds = new Set((free.data ?? []).map((t) => t.id));
  // Tables that fit and look free but are booked before the party would finish.
  const bookedSoon = tables.filter((t) => t.status === "available" && t.group_capacity >= party && !freeIds.has(t.id));
  const seat = async (t: TableView) => {
    const seated = await act(
      () =>
        ordersCreate({
          body: { table_id: t.id, customer_count: party, special_requests: name.trim() ? `Walk-in: ${name.trim()}` : null },
        }),
      `Walk-in of ${party} seated at table ${t.table_number}`,
    );
    if (seated) {
      setName("");
      setParty(2);
    }
  };
  return (
    <section className="panel" aria-labelledby="walkin-title">
      <h2 id="walkin-title">Walk-in</h2>
      <div className="field">
        <label htmlFor="walkin-party">Party size</label>
        <input id="walkin-party" type="number" min={1} max={50} value={party} onChange={(e) => setParty(Math.max(1, Number(e.target.value) || 1))} />
      </div>
      <div className="field">
        <label htmlFor="walkin-name">Name (optional)</label>
        <input id="walkin-name" value={name} onChange={(e) => setName(e.target.value)} />
      </div>
      <p id="walkin-free">Free tables that fit:</p>
      <ul className="slots" aria-labelledby="walkin-free">
        {(free.data ?? []).map((t) => (
          <li key={t.id}>
            <button type="button" onClick={() => void seat(t)}>
              Seat at table {t.table_number} ({t.capacity})
            </button>
          </li>
        ))}
      </ul>
      {free.isSuccess && free.data.length === 0 && <p>No free table fits {party} now.</p>}
      {bookedSoon.length > 0 && (
        <p className="hint">
          Booked before they would finish:{" "}
          {bookedSoon
            .map((t) => `table ${t.table_number}${t.next_booking ? ` (${localTime(t.next_booking.starts_at, zone)})` : ""}`)
            .join(", ")}
        </p>
      )}
    </section>
  );
}

function GuestSearch() {
  const [q, setQ] = useState("");
  const [term, setTerm] = useState("");
  const [open, setOpen] = useState<number | null>(null);
  const found = useQuery({
    queryKey: ["staff", "guests", term],
    enabled: term.length > 1,
    queryFn: async () => {
      const { data, error, response } = await guestsList({ query: { q: term } });
      if (error || !data) throw problem(error, response);
      return data.items;
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setTerm(q.trim());
  };
  return (
    <section className="panel" aria-labelledby="guests-title">
      <h2 id="guests-title">Find a guest</h2>
      <form onSubmit={submit} className="inline-form" role="search">
        <label htmlFor="guest-q">Name or phone</label>
        <input id="guest-q" value={q} onChange={(e) => setQ(e.target.value)} />
        <button type="submit">Search</button>
      </form>
      <ul className="guest-list">
        {(found.data ?? []).map((g) => (
          <li key={g.id}>
            <strong>{g.name}</strong> {g.phone ?? ""} {g.email ?? ""} · {g.visits} visits · {g.no_shows} no-shows ·{" "}
            {g.cancellations} cancellations
            {g.allergies && <div className="allergy">Allergies: {g.allergies}</div>}
            {g.notes && <div className="hint">{g.notes}</div>}
            <button type="button" className="link" aria-expanded={open === g.id} onClick={() => setOpen(open === g.id ? null : g.id)}>
              {open === g.id ? "Hide history" : "History"}
            </button>
            {open === g.id && <GuestHistory id={g.id} />}
          </li>
        ))}
      </ul>
      {found.isSuccess && found.data.length === 0 && <p>No guest matches “{term}”.</p>}
    </section>
  );
}

/** The day's bookings per table: tables down, time across the opening hours. */
function Timeline({
  restaurant,
  day,
  tables,
  bookings,
}: {
  restaurant: Restaurant;
  day: string;
  tables: TableView[];
  bookings: BookingOut[];
}) {
  const services = restaurant.opening_hours[weekday(day)] ?? [];
  if (services.length === 0) return null;
  const start = Math.min(...services.map((s) => toMinutes(s.opens)));
  const end = Math.max(...services.map((s) => toMinutes(s.closes)));
  const span = Math.max(60, end - start);
  const hours: number[] = [];
  for (let m = Math.ceil(start / 60) * 60; m < end; m += 60) hours.push(m);
  const shown = bookings.filter((b) => b.status !== "cancelled");
  return (
    <section className="panel timeline-panel" aria-labelledby="timeline-title">
      <h2 id="timeline-title">Timeline</h2>
      <div className="timeline" role="table" aria-label={`Bookings per table on ${formatDate(day)}`}>
        <div className="tl-row tl-head" role="row">
          <span role="columnheader" className="tl-table">Table</span>
          <span role="columnheader" className="tl-track">
            {hours.map((m) => (
              <span key={m} className="tl-hour" style={{ left: `${((m - start) / span) * 100}%` }}>
                {String(m / 60).padStart(2, "0")}
              </span>
            ))}
          </span>
        </div>
        {tables.map((t) => (
          <div className="tl-row" role="row" key={t.id}>
            <span role="rowheader" className="tl-table">{t.table_number}</span>
            <span role="cell" className="tl-track">
              {shown
                .filter((b) => b.table_id === t.id)
                .map((b) => {
                  const from = toMinutes(b.time);
                  const minutes = (Date.parse(b.ends_at) - Date.parse(b.starts_at)) / 60_000;
                  return (
                    <span
                      key={b.id}
                      className={`tl-bar status-${b.status}`}
                      style={{ left: `${((from - start) / span) * 100}%`, width: `${(minutes / span) * 100}%` }}
                      title={b.special_requests ?? undefined}
                    >
                      {hhmm(b.time)} {b.guest?.name ?? ""} · {b.party_size}
                    </span>
                  );
                })}
            </span>
          </div>
        ))}
      </div>
    </section>
  );
}

/** A booking taken on the phone: for the guest, who gets the e-mails if they gave an address. */
function PhoneBooking({
  act,
  day,
}: {
  act: (action: () => Promise<Answer>, done: string) => Promise<boolean>;
  day: string;
}) {
  const empty = { date: day, time: "19:00", party: 2, name: "", phone: "", email: "", notes: "" };
  const [form, setForm] = useState(empty);
  const [problemFound, setProblem] = useState<Problem | null>(null);
  const set = (key: keyof typeof form) => (e: { target: { value: string } }) => {
    const value = e.target.value;
    setForm((current) => ({ ...current, [key]: key === "party" ? Number(value) : value }));
  };
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setProblem(null);
    let refused: Problem | null = null;
    const ok = await act(async () => {
      const result = await bookingsCreate({
        body: {
          date: form.date,
          time: form.time,
          party_size: form.party,
          special_requests: form.notes || null,
          source: "phone",
          guest: { name: form.name, phone: form.phone || null, email: form.email || null },
        },
      });
      if (result.error) refused = problem(result.error, result.response);
      return result;
    }, `Booked ${form.name} for ${form.party} on ${formatDate(form.date)} at ${form.time}`);
    setProblem(refused);
    if (ok) setForm({ ...empty, date: form.date });
  };
  const fields = problemFound?.fields ?? {};
  return (
    <section className="panel" aria-labelledby="phone-title">
      <h2 id="phone-title">Phone booking</h2>
      <form onSubmit={submit} noValidate>
        <Field label="Date" type="date" value={form.date} onChange={set("date")} error={fields.date} />
        <Field label="Time" type="time" step={900} value={form.time} onChange={set("time")} error={fields.time} />
        <Field label="Guests" type="number" min={1} max={50} value={form.party} onChange={set("party")} error={fields.party_size} />
        <Field label="Guest's name" value={form.name} onChange={set("name")} error={fields.name} />
        <Field label="Guest's phone" type="tel" value={form.phone} onChange={set("phone")} error={fields.phone} />
        <Field label="Guest's e-mail (optional)" type="email" value={form.email} onChange={set("email")} error={fields.email} />
        <Field label="Notes" value={form.notes} onChange={set("notes")} error={fields.special_requests} />
        {problemFound && problemFound.alternatives.length > 0 && (
          <p>Free nearby: {problemFound.alternatives.map(hhmm).join(", ")}</p>
        )}
        <button type="submit" className="primary">Book for the guest</button>
      </form>
    </section>
  );
}

function GuestHistory({ id }: { id: number }) {
  const guest = useGuest(id);
  if (guest.isPending) return <p role="status">Loading…</p>;
  if (!guest.data) return null;
  return (
    <ul className="history" aria-label={`${guest.data.name}'s bookings`}>
      {guest.data.bookings.length === 0 && <li>No bookings yet.</li>}
      {guest.data.bookings.map((b) => (
        <li key={b.id}>
          {formatDate(b.date, "short")} {hhmm(b.time)} · {b.party_size} · {b.status}
        </li>
      ))}
    </ul>
  );
}
