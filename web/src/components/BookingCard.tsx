import { useEffect, useRef, useState, type FormEvent } from "react";
import type { BookingChange, BookingOut } from "../client/types.gen";
import { addDays, describeMinutes, formatDate, hhmm, restaurantNow, toMinutes, type IsoDate } from "../dates";
import { offline, problem, type Problem } from "../errors";
import { closedReason, SlotPicker, useDay } from "../pages/Book";
import { upcoming } from "../slots";
import type { Restaurant } from "../restaurant";
import { Calendar } from "./Calendar";
import { FormError } from "./Field";

type Answer = { data?: unknown; error?: unknown; response?: Response };

interface Props {
  booking: BookingOut;
  restaurant: Restaurant;
  change: (body: BookingChange) => Promise<Answer>;
  cancel: () => Promise<Answer>;
  /** Called after a change or cancellation went through. */
  done: (what: "changed" | "cancelled") => void;
  headingLevel?: 2 | 3;
}

const STATUS: Record<string, string> = {
  confirmed: "Confirmed",
  seated: "Seated",
  completed: "Completed",
  cancelled: "Cancelled",
  no_show: "Missed",
};

/** The minutes from now (on the restaurant's clock) until the booking starts. */
function minutesUntil(restaurant: Restaurant, booking: BookingOut): number {
  const now = restaurantNow(restaurant.timezone);
  let days = 0;
  for (let d = now.date; d < booking.date && days < 400; d = addDays(d, 1)) days++;
  if (booking.date < now.date) return -1;
  return days * 24 * 60 + toMinutes(booking.time) - now.minutes;
}

/** One booking: what it is, and (while it can be) changing or cancelling it. */
export function BookingCard({ booking, restaurant, change, cancel, done, headingLevel = 2 }: Props) {
  const [mode, setMode] = useState<"view" | "change" | "cancel">("view");
  const [error, setError] = useState<Problem | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const Heading = `h${headingLevel}` as "h2" | "h3";
  const status = useRef<HTMLParagraphElement>(null);
  const left = minutesUntil(restaurant, booking);
  const open = booking.status === "confirmed" && left > 0;
  const cutoff = restaurant.cancel_cutoff_minutes;
  const canCancel = open && left >= cutoff;
  const call = restaurant.phone ? `call us on ${restaurant.phone}` : "contact the restaurant";

  async function run(action: () => Promise<Answer>, what: "changed" | "cancelled", success: string) {
    setBusy(true);
    setError(null);
    try {
      const result = await action();
      if (result.error) {
        setError(problem(result.error, result.response));
        return false;
      }
      setMessage(success);
      setMode("view");
      done(what);
      // The form that had the focus is gone. A cancelled booking leaves this place (its
      // page says so where the focus goes); a changed one stays, with its message.
      if (what === "changed") setTimeout(() => status.current?.focus());
      return true;
    } catch {
      setError(offline);
      return false;
    } finally {
      setBusy(false);
    }
  }

  return (
    <article className="booking" aria-labelledby={`booking-${booking.id}`}>
      <Heading id={`booking-${booking.id}`}>
        {formatDate(booking.date)} at {hhmm(booking.time)}
      </Heading>
      <dl className="facts">
        <dt>Guests</dt>
        <dd>{booking.party_size}</dd>
        <dt>Reference</dt>
        <dd>#{booking.id}</dd>
        <dt>Status</dt>
        <dd>{STATUS[booking.status] ?? booking.status}</dd>
        {booking.special_requests && (
          <>
            <dt>Requests</dt>
            <dd>{booking.special_requests}</dd>
          </>
        )}
      </dl>
      <p role="status" className={message ? "notice" : "sr-only"} tabIndex={-1} ref={status}>
        {message ?? ""}
      </p>
      {open && mode === "view" && (
        <div className="actions">
          <button type="button" onClick={() => { setMode("change"); setMessage(null); setError(null); }}>
            Change booking
          </button>
          <button type="button" className="danger" onClick={() => { setMode("cancel"); setMessage(null); setError(null); }}>
            Cancel booking
          </button>
        </div>
      )}
      {open && (
        <p className="hint">
          {cutoff > 0
            ? `You can cancel online until ${describeMinutes(cutoff)} before the booking; after that, please ${call}.`
            : `You can cancel online until the booking starts.`}
        </p>
      )}
      {mode === "change" && (
        <ChangeForm
          booking={booking}
          restaurant={restaurant}
          busy={busy}
          error={error}
          onCancel={() => setMode("view")}
          onSubmit={(body) => run(() => change(body), "changed", "Your booking has been changed. We have e-mailed you the new details.")}
        />
      )}
      {mode === "cancel" && (
        <div className="confirm-cancel" role="group" aria-labelledby={`cancel-${booking.id}`}>
          {canCancel ? (
            <>
              <p id={`cancel-${booking.id}`}>Cancel this booking? The table goes to someone else.</p>
              <FormError message={error?.message} />
              <div className="actions">
                <CancelConfirm
                  busy={busy}
                  onConfirm={() => run(cancel, "cancelled", "Your booking is cancelled. We have e-mailed you to confirm.")}
                />
                <button type="button" onClick={() => setMode("view")}>
                  Keep it
                </button>
              </div>
            </>
          ) : (
            <>
              <p id={`cancel-${booking.id}`}>
                It is too late to cancel online (less than {describeMinutes(cutoff)} to go): please {call}.
              </p>
              <button type="button" onClick={() => setMode("view")}>
                Back
              </button>
            </>
          )}
        </div>
      )}
    </article>
  );
}

function CancelConfirm({ busy, onConfirm }: { busy: boolean; onConfirm: () => void }) {
  const button = useRef<HTMLButtonElement>(null);
  useEffect(() => button.current?.focus(), []);
  return (
    <button ref={button} type="button" className="danger" disabled={busy} onClick={onConfirm}>
      Yes, cancel it
    </button>
  );
}

function ChangeForm({
  booking,
  restaurant,
  busy,
  error,
  onSubmit,
  onCancel,
}: {
  booking: BookingOut;
  restaurant: Restaurant;
  busy: boolean;
  error: Problem | null;
  onSubmit: (body: BookingChange) => Promise<boolean>;
  onCancel: () => void;
}) {
  const first = restaurantNow(restaurant.timezone).date;
  const [date, setDate] = useState<IsoDate>(booking.date);
  const [party, setParty] = useState(booking.party_size);
  const [time, setTime] = useState<string>(hhmm(booking.time));
  const closed = closedReason(restaurant, date);
  const day = useDay(date, party, !closed);
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const body: BookingChange = {};
    if (date !== booking.date) body.date = date;
    if (time !== hhmm(booking.time)) body.time = time;
    if (party !== booking.party_size) body.party_size = party;
    void onSubmit(body);
  };
  const unchanged = date === booking.date && time === hhmm(booking.time) && party === booking.party_size;
  // The booking's own table counts as taken in the day's figures, so a time showing
  // "full" may still be possible for it: every time stays choosable, and the service
  // answers with nearby free times when it is not.
  const slots = upcoming(day.data?.slots ?? []);

  return (
    <form className="change" onSubmit={submit} noValidate>
      <h3 tabIndex={-1} ref={heading}>Change the booking</h3>
      <div className="field">
        <label htmlFor={`party-${booking.id}`}>Number of guests</label>
        <select id={`party-${booking.id}`} value={party} onChange={(e) => setParty(Number(e.target.value))}>
          {Array.from({ length: restaurant.max_party_size }, (_, i) => i + 1).map((n) => (
            <option key={n} value={n}>
              {n}
            </option>
          ))}
        </select>
      </div>
      <Calendar
        label="New date"
        value={date}
        min={first}
        max={addDays(first, restaurant.horizon_days)}
        unavailable={(d) => closedReason(restaurant, d)}
        onChange={setDate}
      />
      <p aria-live="polite">{formatDate(date)}{closed ? " — closed that day" : ""}</p>
      {!closed && day.isSuccess && (
        <SlotPicker label={`New time on ${formatDate(date)}`} slots={slots} chosen={time} onChoose={setTime} fullChoosable />
      )}
      {!closed && day.isPending && <p role="status">Looking for free tables…</p>}
      <FormError message={error?.message} />
      {error && error.alternatives.length > 0 && (
        <div className="alternatives">
          <p>Free nearby: </p>
          <ul className="slots">
            {error.alternatives.map((t) => (
              <li key={t}>
                <button type="button" className="slot" onClick={() => setTime(hhmm(t))}>
                  {hhmm(t)}
                </button>
              </li>
            ))}
          </ul>
        </div>
      )}
      <div className="actions">
        <button type="submit" className="primary" disabled={busy || unchanged || closed !== null}>
          {busy ? "Saving…" : `Change to ${party}, ${formatDate(date, "short")} at ${time}`}
        </button>
        <button type="button" onClick={onCancel}>
          Back
        </button>
      </div>
    </form>
  );
}
