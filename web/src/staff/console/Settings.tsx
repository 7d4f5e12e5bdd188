// The restaurant's settings (PATCH /restaurant): opening hours per weekday, closed dates,
// booking rules, the bill's percentages and the contact details. A change that would
// strand confirmed bookings (a closed date, a shorter service) is refused with 409 and the
// bookings it names; they are shown, and going ahead repeats the change with
// cancel_affected=true.
import { useQueryClient } from "@tanstack/react-query";
import { useCallback, useId, useState, type FormEvent } from "react";
import { restaurantPatch } from "../../client/sdk.gen";
import type { AffectedBooking, RestaurantSettingsUpdate, Service } from "../../client/types.gen";
import { Field } from "../../components/Field";
import { formatDate, restaurantNow } from "../../dates";
import type { Restaurant } from "../../restaurant";
import { Outcome, Stranded, strandedBy, strandOutcome, useAction, whole, type Action } from "./common";

const WEEK = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];
const title = (day: string) => day[0].toUpperCase() + day.slice(1);

function useSettingsAction(): Action {
  const queries = useQueryClient();
  const after = useCallback(() => void queries.invalidateQueries({ queryKey: ["restaurant"] }), [queries]);
  return useAction(after);
}

/** PATCH /restaurant, with the stranded bookings kept for confirming. */
function usePatch(action: Action) {
  const [stranded, setStranded] = useState<{ affected: AffectedBooking[]; body: RestaurantSettingsUpdate; done: string } | null>(null);
  const patch = async (body: RestaurantSettingsUpdate, done: string, cancelAffected = false) => {
    setStranded(null);
    const answer = await action.act(
      () => restaurantPatch({ body, query: cancelAffected ? { cancel_affected: true } : undefined }),
      (saved) => `${done}${strandOutcome(saved)}`,
    );
    const affected = answer ? strandedBy(answer) : null;
    if (affected) setStranded({ affected, body, done });
    return answer?.data ?? null;
  };
  return { patch, stranded, setStranded };
}

export function Settings({ restaurant }: { restaurant: Restaurant }) {
  return (
    <section className="panel" aria-labelledby="console-settings">
      <h2 id="console-settings">Restaurant settings</h2>
      <div className="settings-grid">
        <Hours restaurant={restaurant} />
        <div>
          <ClosedDates restaurant={restaurant} />
          <Rules restaurant={restaurant} />
          <Contact restaurant={restaurant} />
        </div>
      </div>
    </section>
  );
}

function Hours({ restaurant }: { restaurant: Restaurant }) {
  const action = useSettingsAction();
  const { patch, stranded, setStranded } = usePatch(action);
  const [hours, setHours] = useState<Record<string, Service[]>>(() =>
    // pacing_covers is kept as it is (set through the API), so saving the hours keeps the pace.
    Object.fromEntries(WEEK.map((day) => [day, (restaurant.opening_hours[day] ?? []).map((s) => ({ opens: s.opens.slice(0, 5), closes: s.closes.slice(0, 5), pacing_covers: s.pacing_covers ?? null }))])),
  );
  const heading = useId();
  const change = (day: string, index: number, key: keyof Service, value: string) =>
    setHours((all) => ({ ...all, [day]: all[day].map((s, i) => (i === index ? { ...s, [key]: value } : s)) }));
  const save = (cancelAffected = false) => void patch({ opening_hours: hours }, "Opening hours saved.", cancelAffected);
  // The API names the service and the time it refused: "body.opening_hours.monday.0.opens: …".
  const where = /opening_hours\.(\w+)\.(\d+)\.(opens|closes): (.*)$/.exec(action.error?.message ?? "");
  const fieldError = (day: string, index: number, key: keyof Service) =>
    where && where[1] === day && Number(where[2]) === index && where[3] === key ? where[4] : undefined;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save();
  };
  return (
    <form className="console-form" onSubmit={submit} aria-labelledby={heading}>
      <h3 id={heading}>Opening hours</h3>
      <p className="hint">Each day's services, on the restaurant's clock ({restaurant.timezone}). A day with none is closed.</p>
      {WEEK.map((day) => (
        <fieldset key={day} className="day-hours">
          <legend>{title(day)}</legend>
          {hours[day].length === 0 && <p className="hint">Closed</p>}
          {hours[day].map((service, i) => (
            <div key={i} className="service-row">
              <TimeField
                label="Opens"
                which={`on ${title(day)}, service ${i + 1}`}
                value={service.opens}
                onChange={(value) => change(day, i, "opens", value)}
                error={fieldError(day, i, "opens")}
              />
              <TimeField
                label="Closes"
                which={`on ${title(day)}, service ${i + 1}`}
                value={service.closes}
                onChange={(value) => change(day, i, "closes", value)}
                error={fieldError(day, i, "closes")}
              />
              <button type="button" onClick={() => setHours((all) => ({ ...all, [day]: all[day].filter((_, j) => j !== i) }))}>
                Remove<span className="sr-only"> {title(day)} service {i + 1}</span>
              </button>
            </div>
          ))}
          <button
            type="button"
            className="link"
            onClick={() => setHours((all) => ({ ...all, [day]: [...all[day], { opens: "18:00", closes: "22:00" }] }))}
          >
            Add a service on {title(day)}
          </button>
        </fieldset>
      ))}
      <Outcome action={action} />
      {stranded && (
        <Stranded affected={stranded.affected} confirm="Save anyway and cancel them" onConfirm={() => save(true)} onKeep={() => setStranded(null)} />
      )}
      <button type="submit" className="primary">
        Save opening hours
      </button>
    </form>
  );
}

/** A time field whose visible label is short ("Opens") and whose name says which. */
function TimeField({
  label,
  which,
  value,
  onChange,
  error,
}: {
  label: string;
  which: string;
  value: string;
  onChange: (value: string) => void;
  error?: string;
}) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>
        {label}
        <span className="sr-only"> {which}</span>
      </label>
      <input
        id={id}
        type="time"
        value={value}
        onChange={(e) => onChange(e.target.value)}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? `${id}-error` : undefined}
      />
      {error && (
        <p id={`${id}-error`} className="field-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

function ClosedDates({ restaurant }: { restaurant: Restaurant }) {
  const action = useSettingsAction();
  const { patch, stranded, setStranded } = usePatch(action);
  const [dates, setDates] = useState<string[]>(restaurant.closed_dates);
  const [day, setDay] = useState("");
  const [local, setLocal] = useState<string | undefined>();
  const heading = useId();
  const today = restaurantNow(restaurant.timezone).date;

  const close = async (date: string, cancelAffected = false) => {
    const next = [...new Set([...dates, date])].sort();
    const saved = await patch({ closed_dates: next }, `Closed on ${formatDate(date)}.`, cancelAffected);
    if (saved) {
      setDates(saved.closed_dates);
      setDay("");
    }
  };
  const reopen = async (date: string) => {
    const saved = await patch({ closed_dates: dates.filter((d) => d !== date) }, `Open again on ${formatDate(date)}.`);
    if (saved) setDates(saved.closed_dates);
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) {
      setLocal("Choose the date to close.");
      action.fail("Choose the date to close.");
      return;
    }
    setLocal(undefined);
    void close(day);
  };
  const upcoming = dates.filter((d) => d >= today);
  return (
    <form className="console-form" onSubmit={submit} aria-labelledby={heading} noValidate>
      <h3 id={heading}>Closed dates</h3>
      {upcoming.length === 0 ? (
        <p>No closed dates ahead.</p>
      ) : (
        <ul className="closed-dates">
          {upcoming.map((d) => (
            <li key={d}>
              {formatDate(d)}{" "}
              <button type="button" onClick={() => void reopen(d)}>
                Open again on {formatDate(d, "short")}
              </button>
            </li>
          ))}
        </ul>
      )}
      <Field label="Date to close" className="narrow" type="date" min={today} value={day} onChange={(e) => setDay(e.target.value)} error={local ?? action.error?.fields.closed_dates} />
      <Outcome action={action} />
      {stranded && (
        <Stranded
          affected={stranded.affected}
          confirm="Close anyway and cancel them"
          onConfirm={() => void close(day, true)}
          onKeep={() => setStranded(null)}
        />
      )}
      <button type="submit" className="primary">
        Close this date
      </button>
    </form>
  );
}

const RULES = [
  ["lead_minutes", "Lead time (minutes)", "How long before a time guests can still book it online."],
  ["horizon_days", "Booking horizon (days)", "How far ahead guests can book."],
  ["max_party_size", "Largest party online", "Larger parties are asked to call."],
  ["cancel_cutoff_minutes", "Cancellation cut-off (minutes)", "Guests cannot cancel or change online this close to the time."],
  ["hold_minutes", "Hold a table (minutes)", "How long before a booking its table is held for it."],
] as const;
const PERCENTS = [
  ["service_charge_percent", "Service charge (%)"],
  ["tax_percent", "Tax (%)"],
] as const;

function Rules({ restaurant }: { restaurant: Restaurant }) {
  const action = useSettingsAction();
  const { patch, stranded, setStranded } = usePatch(action);
  const [form, setForm] = useState<Record<string, string>>(() => ({
    ...Object.fromEntries(RULES.map(([name]) => [name, String(restaurant[name])])),
    ...Object.fromEntries(PERCENTS.map(([name]) => [name, String(restaurant[name])])),
  }));
  const [local, setLocal] = useState<Record<string, string>>({});
  const errors = { ...(action.error?.fields ?? {}), ...local };
  const heading = useId();

  const build = (): RestaurantSettingsUpdate | null => {
    const wrong: Record<string, string> = {};
    const body: Record<string, number | string> = {};
    for (const [name] of RULES) {
      const value = whole(form[name]);
      if (value === null) wrong[name] = "Enter a whole number.";
      else body[name] = value;
    }
    for (const [name] of PERCENTS) {
      const value = form[name].trim();
      if (!/^\d{1,3}(\.\d{1,2})?$/.test(value)) wrong[name] = "Enter a percentage such as 12.5.";
      else body[name] = value;
    }
    setLocal(wrong);
    if (Object.keys(wrong).length) {
      action.fail("Some fields need correcting.");
      return null;
    }
    return body as RestaurantSettingsUpdate;
  };
  const save = (cancelAffected = false) => {
    const body = build();
    if (body) void patch(body, "Booking rules and bill saved.", cancelAffected);
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save();
  };
  return (
    <form className="console-form compact" onSubmit={submit} aria-labelledby={heading} noValidate>
      <h3 id={heading}>Booking rules and the bill</h3>
      {RULES.map(([name, label, hint]) => (
        <Field
          key={name}
          label={label}
          hint={hint}
          inputMode="numeric"
          value={form[name]}
          onChange={(e) => setForm({ ...form, [name]: e.target.value })}
          error={errors[name]}
        />
      ))}
      <div className="field-row">
        {PERCENTS.map(([name, label]) => (
          <Field
            key={name}
            label={label}
            inputMode="decimal"
            value={form[name]}
            onChange={(e) => setForm({ ...form, [name]: e.target.value })}
            error={errors[name]}
          />
        ))}
      </div>
      <Outcome action={action} />
      {stranded && (
        <Stranded affected={stranded.affected} confirm="Save anyway and cancel them" onConfirm={() => save(true)} onKeep={() => setStranded(null)} />
      )}
      <button type="submit" className="primary">
        Save booking rules and bill
      </button>
    </form>
  );
}

const CONTACT = [
  ["phone", "Phone", "tel", "Saved in international form, e.g. +44 20 7946 0000."],
  ["email", "E-mail", "email", undefined],
  ["address", "Address", "text", "One line, as guests should see it."],
  ["website", "Website", "url", "The whole address, e.g. https://www.example.com."],
] as const;
type ContactName = (typeof CONTACT)[number][0];
const contactOf = (r: Pick<Restaurant, ContactName>) =>
  Object.fromEntries(CONTACT.map(([name]) => [name, r[name] ?? ""])) as Record<ContactName, string>;

/** How guests reach the restaurant (every e-mail's footer, the guest pages). An emptied
 * field goes back to the service's configured default; only changed fields are sent. */
function Contact({ restaurant }: { restaurant: Restaurant }) {
  const action = useSettingsAction();
  const [saved, setSaved] = useState(() => contactOf(restaurant));
  const [form, setForm] = useState(saved);
  const heading = useId();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const body: RestaurantSettingsUpdate = {};
    for (const [name] of CONTACT) if (form[name].trim() !== saved[name]) body[name] = form[name].trim();
    if (Object.keys(body).length === 0) {
      action.say("No changes to save.");
      return;
    }
    const answer = await action.act(() => restaurantPatch({ body }), "Contact details saved.");
    if (answer?.data) {
      const now = contactOf(answer.data);
      setSaved(now);
      setForm(now);
    }
  };
  return (
    <form className="console-form compact" onSubmit={(e) => void submit(e)} aria-labelledby={heading} noValidate>
      <h3 id={heading}>Contact details</h3>
      <p className="hint">
        Shown on the guest pages and in every e-mail. Leave a field empty to use the service's default (RESTAURANT_PHONE,
        RESTAURANT_EMAIL, RESTAURANT_ADDRESS, RESTAURANT_WEBSITE in its configuration).
      </p>
      {CONTACT.map(([name, label, type, hint]) => (
        <Field
          key={name}
          label={label}
          hint={hint}
          type={type}
          autoComplete="off"
          maxLength={name === "email" ? 320 : name === "phone" ? 64 : 300}
          value={form[name]}
          onChange={(e) => setForm({ ...form, [name]: e.target.value })}
          error={action.error?.fields[name]}
        />
      ))}
      <Outcome action={action} />
      <button type="submit" className="primary">
        Save contact details
      </button>
    </form>
  );
}
