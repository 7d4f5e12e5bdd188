import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useRef, useState, type FormEvent } from "react";
import { Link, useSearch } from "wouter";
import { authConfirmPasswordReset, bookingsCancel, bookingsChange, bookingsList, usersUpdateMe } from "../client/sdk.gen";
import type { BookingOut, UserOut } from "../client/types.gen";
import { signIn } from "../api";
import { AuthPanel } from "../components/AuthPanel";
import { BookingCard } from "../components/BookingCard";
import { Field, FormError } from "../components/Field";
import { addDays, restaurantNow } from "../dates";
import { offline, problem, type Problem } from "../errors";
import { useTitle, type Restaurant } from "../restaurant";
import { useSession } from "../session";

export function AccountPage({ restaurant }: { restaurant: Restaurant }) {
  const { user, ready, signOut } = useSession();
  useTitle("Your account");
  if (!ready) return <main id="main"><p role="status">One moment…</p></main>;
  if (!user) {
    return (
      <main id="main">
        <h1>Your account</h1>
        <AuthPanel intro="Sign in to see and change your bookings." />
      </main>
    );
  }
  return (
    <main id="main" className="account">
      <h1>Hello, {user.name}</h1>
      <p>
        <Link href="/">Book a table</Link> ·{" "}
        <button type="button" className="link" onClick={() => void signOut()}>
          Sign out
        </button>
      </p>
      <Bookings restaurant={restaurant} />
      <Profile user={user} />
      <Password email={user.email} />
    </main>
  );
}

function Bookings({ restaurant }: { restaurant: Restaurant }) {
  const today = restaurantNow(restaurant.timezone).date;
  const queries = useQueryClient();
  const list = (range: { from?: string; to?: string }) => async () => {
    const { data, error, response } = await bookingsList({ query: { ...range, limit: 50 } });
    if (error || !data) throw problem(error, response);
    return data.items;
  };
  const upcoming = useQuery({ queryKey: ["mine", "upcoming", today], queryFn: list({ from: today }) });
  const past = useQuery({ queryKey: ["mine", "past", today], queryFn: list({ to: addDays(today, -1) }) });
  const [announced, setAnnounced] = useState<string | null>(null);
  const announcer = useRef<HTMLParagraphElement>(null);
  const refresh = (what: "changed" | "cancelled", booking: BookingOut) => {
    void queries.invalidateQueries({ queryKey: ["mine"] });
    if (what === "cancelled") {
      // The booking moves to the other list (its card is a new one there): say so here.
      setAnnounced(`Your booking #${booking.id} is cancelled. We have e-mailed you to confirm.`);
      setTimeout(() => announcer.current?.focus());
    }
  };
  const active = (upcoming.data ?? []).filter((b) => b.status === "confirmed" || b.status === "seated");
  const earlier = [...(upcoming.data ?? []).filter((b) => !active.includes(b)), ...(past.data ?? [])];

  return (
    <>
      <section className="panel" aria-labelledby="upcoming-title">
        <h2 id="upcoming-title">Upcoming bookings</h2>
        <p role="status" tabIndex={-1} ref={announcer} className={announced ? "notice" : "sr-only"}>
          {announced ?? ""}
        </p>
        {upcoming.isPending && <p role="status">Loading…</p>}
        {upcoming.isError && <FormError message={(upcoming.error as unknown as Problem).message} />}
        {upcoming.isSuccess && active.length === 0 && (
          <p>
            None yet. <Link href="/">Book a table</Link>
          </p>
        )}
        {active.map((b) => (
          <BookingCard
            key={b.id}
            booking={b}
            restaurant={restaurant}
            headingLevel={3}
            change={(body) => bookingsChange({ path: { booking_id: b.id }, body })}
            cancel={() => bookingsCancel({ path: { booking_id: b.id } })}
            done={(what) => refresh(what, b)}
          />
        ))}
      </section>
      <section className="panel" aria-labelledby="past-title">
        <h2 id="past-title">Past and cancelled</h2>
        {past.isSuccess && earlier.length === 0 && <p>Nothing here yet.</p>}
        {earlier.map((b) => (
          <BookingCard
            key={b.id}
            booking={b}
            restaurant={restaurant}
            headingLevel={3}
            change={async () => ({})}
            cancel={async () => ({})}
            done={() => {}}
          />
        ))}
      </section>
    </>
  );
}

function useSave() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Problem | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  async function save(action: () => Promise<{ error?: unknown; response?: Response }>, message: string) {
    setBusy(true);
    setError(null);
    setSaved(null);
    try {
      const result = await action();
      if (result.error) setError(problem(result.error, result.response));
      else setSaved(message);
      return !result.error;
    } catch {
      setError(offline);
      return false;
    } finally {
      setBusy(false);
    }
  }
  return { busy, error, saved, save };
}

function Profile({ user }: { user: UserOut }) {
  const [name, setName] = useState(user.name);
  const [phone, setPhone] = useState(user.phone ?? "");
  const queries = useQueryClient();
  const { busy, error, saved, save } = useSave();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (await save(() => usersUpdateMe({ body: { name, phone } }), "Saved.")) {
      await queries.invalidateQueries({ queryKey: ["me"] });
    }
  };
  return (
    <section className="panel" aria-labelledby="profile-title">
      <h2 id="profile-title">Your details</h2>
      <form onSubmit={submit} noValidate>
        <p>E-mail: {user.email}</p>
        <Field label="Name" autoComplete="name" value={name} onChange={(e) => setName(e.target.value)} error={error?.fields.name} />
        <Field label="Phone" type="tel" autoComplete="tel" value={phone} onChange={(e) => setPhone(e.target.value)}
          error={error?.fields.phone} hint="Leave empty to remove it." />
        <FormError message={error?.message} />
        <p role="status" className={saved ? "notice" : "sr-only"}>{saved ?? ""}</p>
        <button type="submit" className="primary" disabled={busy}>Save details</button>
      </form>
    </section>
  );
}

function Password({ email }: { email: string }) {
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const { busy, error, saved, save } = useSave();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    // A new password signs the account out everywhere (every refresh token revoked),
    // this browser too: it signs in again with the new one at once.
    const changed = await save(
      () => usersUpdateMe({ body: { password: next, current_password: current } }),
      "Password changed. Other devices are signed out.",
    );
    if (changed) {
      await signIn(email, next);
      setCurrent("");
      setNext("");
    }
  };
  return (
    <section className="panel" aria-labelledby="password-title">
      <h2 id="password-title">Change password</h2>
      <form onSubmit={submit} noValidate>
        <Field label="Current password" type="password" autoComplete="current-password" value={current}
          onChange={(e) => setCurrent(e.target.value)} error={error?.fields.current_password} />
        <Field label="New password" type="password" autoComplete="new-password" value={next}
          onChange={(e) => setNext(e.target.value)} error={error?.fields.password} hint="At least 8 characters." />
        <FormError message={error?.message} />
        <p role="status" className={saved ? "notice" : "sr-only"}>{saved ?? ""}</p>
        <button type="submit" className="primary" disabled={busy}>Change password</button>
      </form>
    </section>
  );
}

/** /account/reset?token=…: the link from a password-reset e-mail. */
export function ResetPage() {
  const token = new URLSearchParams(useSearch()).get("token") ?? "";
  useTitle("Choose a new password");
  const [password, setPassword] = useState("");
  const { busy, error, saved, save } = useSave();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void save(() => authConfirmPasswordReset({ body: { token, password } }), "Your password is changed. You can sign in with it now.");
  };
  return (
    <main id="main">
      <h1>Choose a new password</h1>
      {saved ? (
        <p role="status" className="notice">
          {saved} <Link href="/account">Sign in</Link>
        </p>
      ) : (
        <form onSubmit={submit} noValidate>
          <Field label="New password" type="password" autoComplete="new-password" value={password}
            onChange={(e) => setPassword(e.target.value)} error={error?.fields.password} hint="At least 8 characters." />
          <FormError message={error?.message} />
          <button type="submit" className="primary" disabled={busy}>Set password</button>
        </form>
      )}
    </main>
  );
}
