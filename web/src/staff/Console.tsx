import { useSession } from "../session";
import { useTitle, type Restaurant } from "../restaurant";
import { FloorEditor } from "./console/FloorEditor";
import { Figures } from "./console/Figures";
import { MenuEditor } from "./console/MenuEditor";
import { FailedMail, Users } from "./console/People";
import { Settings } from "./console/Settings";
import "./console/console.css";

const SECTIONS = [
  ["console-figures", "Figures"],
  ["console-floor", "Tables and floor plan"],
  ["console-menu", "Menu"],
  ["console-settings", "Settings"],
  ["console-users", "Users"],
  ["console-outbox", "Failed e-mails"],
] as const;

/** The manager's console (admins only): figures, the floor plan and tables, the menu,
 * the restaurant's settings, users and roles, and the e-mails that failed. */
export default function ConsolePage({ restaurant }: { restaurant: Restaurant }) {
  useTitle("Manager's console");
  const { user } = useSession();
  if (user?.role !== "admin") {
    return (
      <main id="main">
        <h1>The manager's console is for admins only</h1>
        <p>
          You are signed in as {user?.email}, a {user?.role} account. Ask an admin to change your role if you
          need it.
        </p>
      </main>
    );
  }
  return (
    <main id="main" className="console">
      <h1>Manager's console</h1>
      <nav aria-label="Console sections" className="console-nav">
        <ul>
          {SECTIONS.map(([id, name]) => (
            <li key={id}>
              <a href={`#${id}`}>{name}</a>
            </li>
          ))}
        </ul>
      </nav>
      <Figures zone={restaurant.timezone} />
      <FloorEditor />
      <MenuEditor restaurant={restaurant} />
      <Settings restaurant={restaurant} />
      <Users />
      <FailedMail zone={restaurant.timezone} />
    </main>
  );
}
