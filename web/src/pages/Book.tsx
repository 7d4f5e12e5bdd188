import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useId, useRef, useState, type FormEvent } from "react";
import { useLocation } from "wouter";
import { bookingsAvailability, bookingsCreate, bookingsManageLink } from "../client/sdk.gen";
import type { DayAvailability, DaySlot } from "../client/types.gen";
import { AuthPanel } from "../components/AuthPanel";
import { Calendar } from "../components/Calendar";
import { FormError } from "../components/Field";
import { addDays, describeMinutes, formatDate, hhmm, restaurantNow, weekday, type IsoDate } from "../dates";
import { offline, problem, type Problem } from "../errors";
import { openingOn, useTitle, type Restaurant } from "../restaurant";
import { newKey } from "../keys";
import { useSession } from "../session";
import { bookable, upcoming } from "../slots";

const NEARBY_DAYS = 14;
const NEARBY_SHOWN = 3;

export function closedReason(restaurant: Restaurant, date: IsoDate): string | null {
  if (restaurant.closed_dates.includes(date)) return "Closed";
  if (!openingOn(restaurant, weekday(date))) return "Closed";
  return null;
}

async function dayAvailability(date: IsoDate, party: number): Promise<DayAvailability> {
  const { data, error, response } = await bookingsAvailability({ query: { date, party_size: party } });
  if (error || !data) throw problem(error, response);
  return data as DayAvailability;
}

export function useDay(date: IsoDate, party: number, enabled = true) {
  return useQuery({
    queryKey: ["day", date, party],
    queryFn: () => dayAvailability(date, party),
    enabled,
    staleTime: 5_000,
  });
}

/** The next days with a free table for the party, when the chosen one has none. */
function useNearby(restaurant: Restaurant, from: IsoDate, party: number, last: IsoDate, enabled: boolean) {
  return useQuery({
    queryKey: ["nearby", from, party],
    enabled,
    staleTime: 5_000,
    queryFn: async () => {
      const found: { date: IsoDate; free: number }[] = [];
      for (let i = 1; i <= NEARBY_DAYS && found.length < NEARBY_SHOWN; i++) {
        const date = addDays(from, i);
        if (date > last) break;
        if (closedReason(restaurant, date)) continue;
        const day = await dayAvailability(date, party);
        const free = bookable(day.slots).length;
        if (free) found.push({ date, free });
      }
      return found;
    },
  });
}

export function SlotPicker({
  slots,
  chosen,
  onChoose,
  label,
  fullChoosable = false,
}: {
  slots: DaySlot[];
  chosen: string | null;
  onChoose: (time: string) => void;
  label: string;
  /** Times that cannot be booked stay choosable (a booking being changed may keep its own). */
  fullChoosable?: boolean;
}) {
  return (
    <ul className="slots" aria-label={label}>
      {slots.map((slot) => {
        const full = !slot.bookable;
        const time = hhmm(slot.time);
        return (
          <li key={slot.time}>
            <button
              type="button"
              className={`slot${chosen === time ? " chosen" : ""}`}
              aria-pressed={chosen === time}
              disabled={full && !fullChoosable}
              aria-label={full ? `${time}, fully booked` : `${time}, free`}
              title={slot.reason?.message}
              onClick={() => onChoose(time)}
            >
              {time}
              {full && <span className="slot-note" aria-hidden="true">full</span>}
            </button>
          </li>
        );
      })}
    </ul>
  );
}

export function BookPage({ restaurant }: { restaurant: Restaurant }) {
  const now = restaurantNow(restaurant.timezone);
  const first = now.date;
  const last = addDays(first, restaurant.horizon_days);
  const [party, setParty] = useState(2);
  const [tooMany, setTooMany] = useState(false);
  const [date, setDate] = useState<IsoDate>(first);
  const [time, setTime] = useState<string | null>(null);
  const [requests, setRequests] = useState("");
  const [error, setError] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);
  const [key, setKey] = useState(() => newKey());
  const { user, ready, signOut } = useSession();
  const [, navigate] = useLocation();
  const queries = useQueryClient();
  const detailsHeading = useRef<HTMLHeadingElement>(null);
  const timeHeading = useRef<HTMLHeadingElement>(null);
  useTitle("Book a table");
  const partyId = useId();

  const closed = closedReason(restaurant, date);
  const day = useDay(date, party, !closed && !tooMany);
  const shown = upcoming(day.data?.slots ?? []);
  const free = bookable(shown);
  const nothing = !tooMany && (closed !== null || (day.isSuccess && free.length === 0));
  const nearby = useNearby(restaurant, date, party, last, nothing);

  // Focus follows the step: to the details once a time is chosen, and again once the
  // guest has signed in (the form they were in is gone).
  useEffect(() => {
    if (time) detailsHeading.current?.focus();
  }, [time, user?.id]);

  const choose = (next: { date?: IsoDate; party?: number; time?: string | null }) => {
    if (next.date !== undefined) setDate(next.date);
    if (next.party !== undefined) setParty(next.party);
    setTime(next.time ?? null);
    setError(null);
    setKey(newKey());
  };

  async function confirm(event: FormEvent) {
    event.preventDefault();
    if (!time) return;
    setBusy(true);
    setError(null);
    try {
      const made = await bookingsCreate({
        body: { date, time, party_size: party, special_requests: requests.trim() || null },
        headers: { "Idempotency-Key": key },
      });
      if (made.error || !made.data) {
        const found = problem(made.error, made.response);
        setError(found);
        if (made.response?.status === 409) {
          setKey(newKey());
          void queries.invalidateQueries({ queryKey: ["day", date, party] });
        }
        return;
      }
      void queries.invalidateQueries({ queryKey: ["day"] });
      void queries.invalidateQueries({ queryKey: ["mine"] });
      const link = await bookingsManageLink({ path: { booking_id: made.data.id } });
      if (link.data) navigate(`/manage/${link.data.token}?booked=1`);
      else navigate(`/account?booked=${made.data.id}`);
    } catch {
      setError(offline);
    } finally {
      setBusy(false);
    }
  }

  return (
    <main id="main" className="book">
      <h1>Book a table at {restaurant.name}</h1>
      <p className="rules">
        Tables can be booked online up to {restaurant.horizon_days} days ahead, until{" "}
        {describeMinutes(restaurant.lead_minutes)} before the time. Times are {restaurant.name}'s local time.
      </p>

      <section className="panel">
        <h2 id={partyId}>Number of guests</h2>
        <select
          aria-labelledby={partyId}
          value={tooMany ? "more" : String(party)}
          onChange={(e) => {
            const more = e.target.value === "more";
            setTooMany(more);
            if (!more) choose({ party: Number(e.target.value) });
          }}
        >
          {Array.from({ length: restaurant.max_party_size }, (_, i) => i + 1).map((n) => (
            <option key={n} value={n}>
              {n} {n === 1 ? "guest" : "guests"}
            </option>
          ))}
          <option value="more">More than {restaurant.max_party_size}</option>
        </select>
        {tooMany && (
          <p className="notice" role="status">
            {restaurant.large_party_note}
          </p>
        )}
      </section>

      {!tooMany && (
        <section className="panel" aria-labelledby="date-title">
          <h2 id="date-title">Date</h2>
          <Calendar
            label="Choose a date"
            value={date}
            min={first}
            max={last}
            unavailable={(d) => closedReason(restaurant, d)}
            onChange={(d) => choose({ date: d })}
          />
          <p className="chosen-date" aria-live="polite">
            {formatDate(date)}
            {closed ? ` — ${restaurant.name} is closed that day.` : ""}
          </p>
        </section>
      )}

      {!tooMany && !closed && (
        <section className="panel" aria-labelledby="time-title" aria-busy={day.isFetching}>
          <h2 id="time-title" tabIndex={-1} ref={timeHeading}>
            Time
          </h2>
          {day.isPending && <p role="status">Looking for free tables…</p>}
          {day.isError && <FormError message={(day.error as unknown as Problem).message ?? offline.message} />}
          {day.isSuccess && shown.length === 0 && (
            <p>No more tables can be booked online for {formatDate(date)}.</p>
          )}
          {day.isSuccess && shown.length > 0 && (
            <SlotPicker
              label={`Times on ${formatDate(date)} for ${party}`}
              slots={shown}
              chosen={time}
              onChoose={(t) => choose({ time: t })}
            />
          )}
        </section>
      )}

      {nothing && (
        <section className="panel" aria-labelledby="nearby-title">
          <h2 id="nearby-title">Nothing free that day for {party}</h2>
          {nearby.isPending && <p role="status">Looking at the next days…</p>}
          {nearby.isSuccess && nearby.data.length > 0 && (
            <>
              <p>These days have tables free:</p>
              <ul className="nearby">
                {nearby.data.map((d) => (
                  <li key={d.date}>
                    <button
                      type="button"
                      onClick={() => {
                        choose({ date: d.date });
                        setTimeout(() => timeHeading.current?.focus());
                      }}
                    >
                      {formatDate(d.date, "short")} · {d.free} {d.free === 1 ? "time" : "times"} free
                    </button>
                  </li>
                ))}
              </ul>
            </>
          )}
          {nearby.isError && (
            <p role="alert">
              We could not look at the next days just now.
              {restaurant.phone ? ` Call us on ${restaurant.phone}, or try again shortly.` : " Please try again shortly."}
            </p>
          )}
          {nearby.isSuccess && nearby.data.length === 0 && (
            <p>
              Nothing is free online in the next {NEARBY_DAYS} days for {party}.
              {restaurant.phone ? ` Call us on ${restaurant.phone}; we may still find you a table.` : ""}
            </p>
          )}
        </section>
      )}

      {time && !tooMany && (
        <section className="panel" aria-labelledby="details-title">
          <h2 id="details-title" tabIndex={-1} ref={detailsHeading}>
            {party} {party === 1 ? "guest" : "guests"}, {formatDate(date)} at {time}
          </h2>
          {!ready && <p role="status">One moment…</p>}
          {ready && !user && <AuthPanel intro="To confirm, sign in or create an account. Your choice stays as it is." />}
          {ready && user && (
            <form onSubmit={confirm} noValidate>
              <p>
                Booking as <strong>{user.name}</strong> ({user.email}).{" "}
                <button type="button" className="link" onClick={() => void signOut()}>
                  Not you?
                </button>
              </p>
              <div className="field">
                <label htmlFor="requests">Special requests (optional)</label>
                <textarea
                  id="requests"
                  maxLength={500}
                  value={requests}
                  onChange={(e) => setRequests(e.target.value)}
                  rows={3}
                />
              </div>
              <FormError message={error?.message} />
              {error && error.alternatives.length > 0 && (
                <div className="alternatives">
                  <p id="alternatives-label">Free nearby on {formatDate(date)}:</p>
                  <ul className="slots" aria-labelledby="alternatives-label">
                    {error.alternatives.map((t) => (
                      <li key={t}>
                        <button type="button" className="slot" onClick={() => choose({ time: hhmm(t) })}>
                          {hhmm(t)}
                        </button>
                      </li>
                    ))}
                  </ul>
                </div>
              )}
              <button type="submit" className="primary" disabled={busy}>
                {busy ? "Booking…" : `Book for ${party} at ${time}`}
              </button>
            </form>
          )}
        </section>
      )}
    </main>
  );
}
