import { lazy, Suspense } from "react";
import { Link, Route, Switch } from "wouter";
import { AuthPanel } from "../components/AuthPanel";
import type { Restaurant } from "../restaurant";
import { useTitle } from "../restaurant";
import { useSession } from "../session";
import { HostPage } from "./Host";
import { KitchenPage } from "./Kitchen";
import "./staff.css";

// The console loads only when an admin opens it: the host's and the kitchen's screens stay small.
const ConsolePage = lazy(() => import("./Console"));

/** The staff screens (loaded only when a /staff page is opened): signed-in staff and
 * admins only. A customer gets a refusal page; the API refuses them anyway. */
export default function Staff({ restaurant }: { restaurant: Restaurant }) {
  const { user, ready } = useSession();
  useTitle("Staff");
  if (!ready) return <p role="status" className="loading">One moment…</p>;
  if (!user) {
    return (
      <main id="main">
        <h1>Staff sign-in</h1>
        <AuthPanel intro="These screens are for the restaurant's staff." staff />
      </main>
    );
  }
  if (user.role === "customer") {
    return (
      <main id="main">
        <h1>This page is for the restaurant's staff</h1>
        <p>
          You are signed in as {user.email}, a guest account. <Link href="/account">Your bookings</Link> ·{" "}
          <Link href="/">Book a table</Link>
        </p>
      </main>
    );
  }
  return (
    <div className="staff">
      <nav className="staff-nav" aria-label="Staff screens">
        <Link href="/staff/host">Host stand</Link>
        <Link href="/staff/kitchen">Kitchen</Link>
        {user.role === "admin" && <Link href="/staff/console">Console</Link>}
      </nav>
      <Switch>
        <Route path="/staff/host">{() => <HostPage restaurant={restaurant} />}</Route>
        <Route path="/staff/kitchen">{() => <KitchenPage />}</Route>
        <Route path="/staff/console">
          {() => (
            <Suspense fallback={<p role="status" className="loading">Loading…</p>}>
              <ConsolePage restaurant={restaurant} />
            </Suspense>
          )}
        </Route>
        <Route>
          {() => (
            <main id="main">
              <h1>Staff</h1>
              <ul>
                <li>
                  <Link href="/staff/host">Host stand</Link>: the floor, today's bookings, walk-ins, guests
                </li>
                <li>
                  <Link href="/staff/kitchen">Kitchen display</Link>: tickets by station, live
                </li>
                {user.role === "admin" && (
                  <li>
                    <Link href="/staff/console">Manager's console</Link>: figures, tables and floor plan, menu,
                    settings, users, failed e-mails
                  </li>
                )}
              </ul>
            </main>
          )}
        </Route>
      </Switch>
    </div>
  );
}
