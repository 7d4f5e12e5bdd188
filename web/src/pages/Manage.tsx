import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import { Link, useSearch } from "wouter";
import { bookingsManageCancel, bookingsManageChange, bookingsManageGet } from "../client/sdk.gen";
import type { BookingOut } from "../client/types.gen";
import { BookingCard } from "../components/BookingCard";
import { formatDate, hhmm } from "../dates";
import { problem } from "../errors";
import { useTitle, type Restaurant } from "../restaurant";

/** The booking behind an e-mail's link: no sign-in, the token is the key. */
export function ManagePage({ token, restaurant }: { token: string; restaurant: Restaurant }) {
  const booked = new URLSearchParams(useSearch()).get("booked") === "1";
  const queries = useQueryClient();
  const heading = useRef<HTMLHeadingElement>(null);
  useTitle(booked ? "Booked" : "Your booking");
  // A cancelled booking's link opens nothing any more: what was cancelled stays shown.
  const [cancelled, setCancelled] = useState<BookingOut | null>(null);
  const booking = useQuery({
    queryKey: ["manage", token],
    retry: false,
    queryFn: async () => {
      const { data, error, response } = await bookingsManageGet({ path: { token } });
      if (error || !data) throw problem(error, response);
      return data;
    },
  });
  useEffect(() => heading.current?.focus(), [booking.isSuccess, cancelled]);

  if (cancelled) {
    return (
      <main id="main" className="manage">
        <h1 tabIndex={-1} ref={heading}>
          Your booking is cancelled
        </h1>
        <p role="status" className="notice">
          Your booking for {cancelled.party_size} on {formatDate(cancelled.date)} at {hhmm(cancelled.time)} (reference #
          {cancelled.id}) is cancelled. We have e-mailed you to confirm.
        </p>
        <p>
          <Link href="/">Book another table</Link>
        </p>
      </main>
    );
  }

  if (booking.isPending) return <main id="main"><p role="status">Finding your booking…</p></main>;
  if (booking.isError || !booking.data) {
    return (
      <main id="main">
        <h1 tabIndex={-1} ref={heading}>This link no longer opens a booking</h1>
        <p>
          The booking may have been cancelled or already taken place, or the link was copied incompletely.
          {restaurant.phone ? ` If you need help, call us on ${restaurant.phone}.` : ""}
        </p>
        <p>
          <Link href="/">Book a table</Link>
        </p>
      </main>
    );
  }
  const data = booking.data;
  const here = `${window.location.origin}/manage/${token}`;
  const active = data.status === "confirmed";
  return (
    <main id="main" className="manage">
      <h1 tabIndex={-1} ref={heading}>
        {booked ? "You're booked!" : active ? "Your booking" : "Your booking is no longer active"}
      </h1>
      {booked && (
        <p className="notice" role="status">
          Reference <strong>#{data.id}</strong>. We have e-mailed the details{data.guest?.email ? ` to ${data.guest.email}` : ""}.
        </p>
      )}
      <BookingCard
        booking={data}
        restaurant={restaurant}
        change={(body) => bookingsManageChange({ path: { token }, body })}
        cancel={() => bookingsManageCancel({ path: { token } })}
        done={(what) => {
          if (what === "cancelled") setCancelled(data);
          else void queries.invalidateQueries({ queryKey: ["manage", token] });
        }}
      />
      {active && (
        <section className="panel" aria-labelledby="keep-title">
          <h2 id="keep-title">Keep it handy</h2>
          <p>
            <a className="button" href={`/bookings/manage/${token}/calendar.ics`} download={`booking-${data.id}.ics`}>
              Add to calendar
            </a>
          </p>
          <p>
            This page's address is your link to change or cancel the booking (it is also in your e-mail):{" "}
            <a href={here} className="manage-link">{here}</a>
          </p>
        </section>
      )}
      <p>
        <Link href="/">Book another table</Link>
      </p>
    </main>
  );
}
