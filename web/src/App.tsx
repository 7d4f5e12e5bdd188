import { lazy, Suspense, useEffect } from "react";
import { Link, Route, Switch } from "wouter";
import { AccountPage, ResetPage } from "./pages/Account";
import { BookPage } from "./pages/Book";
import { ManagePage } from "./pages/Manage";
import { applyTheme, useRestaurant } from "./restaurant";
import { useSession } from "./session";

// The staff screens load only when one is opened: the guests' pages stay small.
const Staff = lazy(() => import("./staff/Staff"));

export function App() {
  const restaurant = useRestaurant();
  const { user } = useSession();
  useEffect(() => {
    if (restaurant.data) applyTheme(restaurant.data);
  }, [restaurant.data]);

  if (restaurant.isPending) {
    return <p role="status" className="loading">Loading…</p>;
  }
  if (restaurant.isError || !restaurant.data) {
    return (
      <main id="main">
        <h1>Bookings are unavailable just now</h1>
        <p>We could not reach the restaurant's booking service. Please try again in a moment.</p>
        <button type="button" onClick={() => void restaurant.refetch()}>
          Try again
        </button>
      </main>
    );
  }
  const data = restaurant.data;
  const staff = (
    <Suspense fallback={<p role="status" className="loading">Loading…</p>}>
      <Staff restaurant={data} />
    </Suspense>
  );
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="site">
        <Link href="/" className="brand">
          {data.name}
        </Link>
        <nav aria-label="Account">
          <Link href="/account">{user ? "My bookings" : "Sign in"}</Link>
        </nav>
      </header>
      <Switch>
        <Route path="/">{() => <BookPage restaurant={data} />}</Route>
        <Route path="/manage/:token">{(params) => <ManagePage token={params.token} restaurant={data} />}</Route>
        <Route path="/account/reset">{() => <ResetPage />}</Route>
        <Route path="/account">{() => <AccountPage restaurant={data} />}</Route>
        <Route path="/staff">{() => staff}</Route>
        <Route path="/staff/*">{() => staff}</Route>
        <Route>
          {() => (
            <main id="main">
              <h1>Page not found</h1>
              <p>
                <Link href="/">Book a table</Link>
              </p>
            </main>
          )}
        </Route>
      </Switch>
      <footer className="site">
        {[data.address, data.phone, data.email].filter(Boolean).join(" · ")}
      </footer>
    </>
  );
}
