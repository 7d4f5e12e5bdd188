import AxeBuilder from "@axe-core/playwright";
import { expect, test, type APIRequestContext, type Page } from "@playwright/test";
import { ADMIN, apiToken, newEmail, restaurantDate, screenshot, tabTo } from "./helpers";

const STAFF = { email: "staff@example.com", password: "staff-password" };

async function signInAt(page: Page, path: string, who: { email: string; password: string }) {
  await page.goto(path);
  await page.getByLabel("E-mail").fill(who.email);
  await page.getByLabel("Password").fill(who.password);
  await page.getByRole("button", { name: "Sign in and continue" }).click();
}

async function noSeriousViolations(page: Page): Promise<void> {
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  const serious = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  expect(serious.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`)).toEqual([]);
}

async function adminHeaders(request: APIRequestContext) {
  return { Authorization: `Bearer ${await apiToken(request, ADMIN.email, ADMIN.password)}` };
}

interface Table {
  id: number;
  table_number: number;
  capacity: number;
  area: string;
  pos_x: number | null;
  pos_y: number | null;
  width: number;
}

async function tables(request: APIRequestContext, headers: Record<string, string>): Promise<Table[]> {
  const answer = await request.get("/api/tables", { headers });
  expect(answer.status()).toBe(200);
  return (await answer.json()) as Table[];
}

async function openConsole(page: Page) {
  await page.setViewportSize({ width: 1280, height: 1000 });
  await signInAt(page, "/staff/console", ADMIN);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Manager's console");
}

test("an admin drags a table on the floor plan and the host's view shows it at its new place", async ({ browser, page, request }, info) => {
  const admin = await adminHeaders(request);
  const before = (await tables(request, admin)).find((t) => t.table_number === 5)!;
  expect(before.pos_x).not.toBeNull();

  // The host stand, in a browser of its own, live.
  const hostContext = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
  const host = await hostContext.newPage();
  await signInAt(host, "/staff/host", STAFF);
  await expect(host.getByRole("heading", { level: 1 })).toHaveText("Host stand");
  await expect(host.getByText("Live", { exact: true })).toBeVisible();
  const onHost = host.locator(`.floor [data-table="5"]`);
  await expect(onHost).toHaveAttribute("data-x", String(before.pos_x));
  await expect(onHost).toHaveAttribute("data-y", String(before.pos_y));
  const hostStyle = await onHost.getAttribute("style");

  await openConsole(page);
  const floor = page.getByRole("region", { name: "Tables and floor plan" });
  await expect(floor.getByText("Live", { exact: true })).toBeVisible();
  const table = floor.locator(`.floor-editor [data-table="5"]`);
  await expect(table).toHaveAttribute("data-x", String(before.pos_x));

  // Drag it with the pointer: five grid units right and three down.
  await table.scrollIntoViewIfNeeded();
  const box = (await table.boundingBox())!;
  const unit = box.width / before.width;
  const start = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
  await page.mouse.move(start.x, start.y);
  await page.mouse.down();
  await page.mouse.move(start.x + 5 * unit, start.y + 3 * unit, { steps: 12 });
  await page.mouse.up();
  const moved = { x: before.pos_x! + 5, y: before.pos_y! + 3 };
  await expect(floor.getByRole("status").filter({ hasText: `Table 5 moved to ${moved.x}, ${moved.y}.` })).toBeVisible();
  await expect(table).toHaveAttribute("data-x", String(moved.x));
  await expect(table).toHaveAttribute("data-y", String(moved.y));
  const stored = (await tables(request, admin)).find((t) => t.id === before.id)!;
  expect([stored.pos_x, stored.pos_y]).toEqual([moved.x, moved.y]);

  // The host's screen, not reloaded, draws it there.
  await expect(onHost).toHaveAttribute("data-x", String(moved.x), { timeout: 5_000 });
  await expect(onHost).toHaveAttribute("data-y", String(moved.y));
  expect(await onHost.getAttribute("style")).not.toEqual(hostStyle);

  // By keyboard: Tab reaches it, the arrow keys move it one unit, Enter saves; the host
  // follows again.
  await page.locator("body").focus();
  await tabTo(page, table);
  await page.keyboard.press("ArrowLeft");
  await page.keyboard.press("ArrowLeft");
  await page.keyboard.press("ArrowUp");
  await expect(table).toHaveAttribute("data-x", String(moved.x - 2));
  await expect(page.getByText(`Table 5 at ${moved.x - 2}, ${moved.y - 1}, not saved.`)).toBeVisible();
  await page.keyboard.press("Enter");
  await expect(floor.getByRole("status").filter({ hasText: `Table 5 moved to ${moved.x - 2}, ${moved.y - 1}.` })).toBeVisible();
  await expect(onHost).toHaveAttribute("data-x", String(moved.x - 2), { timeout: 5_000 });
  await expect(onHost).toHaveAttribute("data-y", String(moved.y - 1));
  await screenshot(host, info, "staff-host-after-move");

  // Back where it was, for the other tests.
  const back = await request.put(`/api/tables/${before.id}`, { headers: admin, data: { pos_x: before.pos_x, pos_y: before.pos_y } });
  expect(back.status(), await back.text()).toBe(200);
  await expect(onHost).toHaveAttribute("data-x", String(before.pos_x), { timeout: 5_000 });
  await hostContext.close();
});

test("the console shows today's figures and the failed e-mails, saves settings, and passes axe", async ({ page, request }, info) => {
  const admin = await adminHeaders(request);
  const settings = await (await request.get("/restaurant")).json();
  const report = await (await request.get("/api/reports/day", { headers: admin })).json();
  await openConsole(page);

  // Figures: today's, from the database, in the table and the chart's text alternative.
  const figures = page.getByRole("region", { name: "Figures" });
  const table = figures.getByRole("table");
  await expect(table.getByRole("columnheader", { name: "Today" })).toBeVisible();
  await expect(table.getByRole("row", { name: /^Covers booked/ }).getByRole("cell").first()).toHaveText(String(report.covers_booked));
  await expect(table.getByRole("row", { name: /^Orders closed/ }).getByRole("cell").first()).toHaveText(String(report.orders_closed));
  await expect(table.getByRole("row", { name: /^Revenue/ }).getByRole("cell").first()).toHaveText(Number(report.revenue).toFixed(2));
  await expect(figures.getByRole("img", { name: /Guests and orders/ })).toBeVisible();
  await expect(figures.locator("svg desc").first()).toContainText(`Covers booked: Today ${report.covers_booked}`);

  // Failed e-mails: the list as the API has it (none in a fresh service).
  const failed = await (await request.get("/admin/outbox?status=failed", { headers: admin })).json();
  const outbox = page.getByRole("region", { name: "E-mails that failed" });
  if (failed.total === 0) {
    await expect(outbox.getByText("No e-mails have failed.")).toBeVisible();
  } else {
    await expect(outbox.getByRole("button", { name: /^Retry/ })).toHaveCount(Math.min(failed.total, 100));
  }

  // Settings: a wrong value is refused beside its field, a right one saved, then restored.
  const rules = page.getByRole("form", { name: "Booking rules and the bill" });
  const lead = rules.getByLabel("Lead time (minutes)");
  const hold = rules.getByLabel("Hold a table (minutes)");
  await hold.fill("500"); // the API allows at most 240
  await rules.getByRole("button", { name: "Save booking rules and bill" }).click();
  await expect(hold).toHaveAttribute("aria-invalid", "true");
  const described = (await hold.getAttribute("aria-describedby"))!.split(" ").pop()!;
  await expect(rules.locator(`[id="${described}"]`)).toContainText("240");
  await hold.fill(String(settings.hold_minutes));
  const changed = settings.lead_minutes + 15;
  await lead.fill(String(changed));
  await rules.getByRole("button", { name: "Save booking rules and bill" }).click();
  await expect(rules.getByRole("status")).toHaveText("Booking rules and bill saved.");
  await expect(hold).not.toHaveAttribute("aria-invalid", "true");
  expect((await (await request.get("/restaurant")).json()).lead_minutes).toBe(changed);
  await noSeriousViolations(page);
  await screenshot(page, info, "staff-console");
  await lead.fill(String(settings.lead_minutes));
  await rules.getByRole("button", { name: "Save booking rules and bill" }).click();
  await expect(rules.getByRole("status")).toHaveText("Booking rules and bill saved.");
  await expect.poll(async () => (await (await request.get("/restaurant")).json()).lead_minutes).toBe(settings.lead_minutes);
});

test("an admin changes the restaurant's phone in the console and the API answers it", async ({ page, request }) => {
  const before = (await (await request.get("/restaurant")).json()) as { phone: string | null };
  await openConsole(page);
  const contact = page.getByRole("form", { name: "Contact details" });
  const phone = contact.getByLabel("Phone");
  await expect(phone).toHaveValue(before.phone ?? "");
  const save = contact.getByRole("button", { name: "Save contact details" });

  // A number that cannot be dialled is refused beside its field, and nothing is saved.
  await phone.fill("12");
  await save.click();
  await expect(phone).toHaveAttribute("aria-invalid", "true");
  const described = (await phone.getAttribute("aria-describedby"))!.split(" ").pop()!;
  await expect(contact.locator(`[id="${described}"]`)).toContainText("not a valid phone number");
  expect((await (await request.get("/restaurant")).json()).phone).toBe(before.phone);

  // A national number is saved in international form.
  await phone.fill("020 7946 0123");
  await save.click();
  await expect(contact.getByRole("status")).toHaveText("Contact details saved.");
  await expect(phone).not.toHaveAttribute("aria-invalid", "true");
  await expect(phone).toHaveValue("+442079460123");
  expect((await (await request.get("/restaurant")).json()).phone).toBe("+442079460123");
  await noSeriousViolations(page);

  // Emptied, it is the service's default again (what it was before).
  await phone.fill("");
  await save.click();
  await expect(contact.getByRole("status")).toHaveText("Contact details saved.");
  await expect(phone).toHaveValue(before.phone ?? "");
  expect((await (await request.get("/restaurant")).json()).phone).toBe(before.phone);
});

test("closing a date shows the bookings it would strand before cancelling them", async ({ page, request }) => {
  const admin = await adminHeaders(request);
  const date = restaurantDate(9);
  const made = await request.post("/bookings", {
    headers: admin,
    data: { date, time: "19:00", party_size: 2, source: "phone", guest: { name: "Cora Closed", phone: "+442079460999" } },
  });
  expect(made.status(), await made.text()).toBe(201);
  const booking = await made.json();

  await openConsole(page);
  const closed = page.getByRole("form", { name: "Closed dates" });
  await closed.getByLabel("Date to close").fill(date);
  await closed.getByRole("button", { name: "Close this date" }).click();
  const stranded = closed.getByRole("group", { name: /confirmed booking.* would be affected/ });
  await expect(stranded).toContainText("Cora Closed");
  expect((await (await request.get("/restaurant")).json()).closed_dates).not.toContain(date); // nothing changed yet
  await stranded.getByRole("button", { name: "Close anyway and cancel them" }).click();
  await expect(closed.getByRole("status")).toContainText("cancelled");
  expect((await (await request.get("/restaurant")).json()).closed_dates).toContain(date);
  const after = await (await request.get(`/bookings/${booking.id}`, { headers: admin })).json();
  expect(after.status).toBe("cancelled");

  // Open again.
  const [y, m, d] = date.split("-").map(Number);
  const short = new Intl.DateTimeFormat("en-GB", { timeZone: "UTC", weekday: "short", day: "numeric", month: "short" }).format(
    new Date(Date.UTC(y, m - 1, d)),
  );
  await closed.getByRole("button", { name: `Open again on ${short}` }).click();
  await expect(closed.getByRole("status")).toContainText("Open again");
  expect((await (await request.get("/restaurant")).json()).closed_dates).not.toContain(date);
});

test("the menu, the tables and the users are edited from the console", async ({ page, request }) => {
  const admin = await adminHeaders(request);
  await openConsole(page);

  // Menu: add a dish, change its price, take it off, delete it.
  const menu = page.getByRole("region", { name: "Menu" });
  const name = `Console soup ${Date.now().toString(36)}`;
  await menu.getByLabel("New dish's name").fill(name);
  await menu.getByLabel("New dish's price").fill("7.5x");
  await menu.getByLabel("New dish's category").fill("starters");
  await menu.getByRole("button", { name: "Add dish" }).click();
  await expect(menu.getByLabel("New dish's price")).toHaveAttribute("aria-invalid", "true");
  await menu.getByLabel("New dish's price").fill("7.50");
  await menu.getByRole("button", { name: "Add dish" }).click();
  await expect(menu.getByRole("status").filter({ hasText: `${name} added to starters.` })).toBeVisible();
  const dish = () =>
    request.get("/api/menu/all", { headers: admin }).then(async (r) => ((await r.json()) as { name: string; price: string; is_available: boolean }[]).find((m) => m.name === name));
  expect(Number((await dish())!.price)).toBe(7.5);
  await menu.getByRole("button", { name: `Edit ${name}` }).click();
  await menu.getByLabel("Price", { exact: true }).fill("8.25");
  await menu.getByRole("button", { name: `Save ${name}` }).click();
  await expect(menu.getByRole("status").filter({ hasText: `${name} saved.` })).toBeVisible();
  expect(Number((await dish())!.price)).toBe(8.25);
  await menu.getByRole("button", { name: `Mark unavailable: ${name}` }).click();
  await expect(menu.getByRole("button", { name: `Mark available: ${name}` })).toBeVisible();
  expect((await dish())!.is_available).toBe(false);
  const offered = (await (await request.get("/api/menu")).json()) as { name: string }[];
  expect(offered.map((m) => m.name)).not.toContain(name); // off the guests' menu
  await page.reload(); // still listed for the manager, to put back
  await menu.getByRole("button", { name: `Mark available: ${name}` }).click();
  await expect(menu.getByRole("button", { name: `Mark unavailable: ${name}` })).toBeVisible();
  expect((await dish())!.is_available).toBe(true);
  await menu.getByRole("button", { name: `Delete ${name}` }).click();
  await menu.getByRole("button", { name: `Yes, delete ${name}` }).click();
  await expect(menu.getByRole("status").filter({ hasText: `${name} deleted` })).toBeVisible();
  expect(await dish()).toBeUndefined();

  // Tables: add one, change its seats, remove it.
  const floor = page.getByRole("region", { name: "Tables and floor plan" });
  const number = Math.max(...(await tables(request, admin)).map((t) => t.table_number)) + 1;
  await expect(floor.getByLabel("New table's number")).toHaveValue(String(number));
  await floor.getByLabel("New table's seats").fill("3");
  await floor.getByLabel("New table's area").fill("terrace");
  await floor.getByRole("button", { name: "Add table" }).click();
  await expect(floor.getByRole("status").filter({ hasText: `Table ${number} added` })).toBeVisible();
  const added = floor.locator(`.floor-editor [data-table="${number}"]`);
  await expect(added).toBeVisible();
  await added.click();
  const editor = floor.getByRole("group", { name: new RegExp(`^Table ${number} ·`) });
  await editor.getByLabel("Seats").fill("5");
  await editor.getByRole("button", { name: `Save table ${number}` }).click();
  await expect(editor.getByRole("status")).toHaveText(`Table ${number} saved.`);
  const stored = (await tables(request, admin)).find((t) => t.table_number === number)!;
  expect([stored.capacity, stored.area]).toEqual([5, "terrace"]);
  await editor.getByRole("button", { name: `Remove table ${number}` }).click();
  await editor.getByRole("button", { name: `Yes, remove table ${number}` }).click();
  await expect(floor.getByRole("status").filter({ hasText: `Table ${number} removed.` })).toBeVisible();
  await expect(added).toHaveCount(0);
  expect((await tables(request, admin)).some((t) => t.table_number === number)).toBe(false);

  // Users: a new guest account made staff, then deactivated.
  const email = newEmail("console");
  expect((await request.post("/auth/register", { data: { email, password: "a-long-enough-password", name: "Uma User" } })).status()).toBe(202);
  await page.reload();
  const users = page.getByRole("region", { name: "Users and roles" });
  await users.getByLabel("Role for Uma User").selectOption("staff");
  await users.getByRole("button", { name: "Change role for Uma User" }).click();
  await expect(users.getByRole("status")).toHaveText("Uma User is now staff.");
  await users.getByRole("button", { name: "Deactivate Uma User" }).click();
  await expect(users.getByRole("status")).toHaveText("Uma User is deactivated and can no longer sign in.");
  const listed = await (await request.get("/users/?limit=200", { headers: admin })).json();
  const uma = (listed.items as { email: string; role: string; is_active: boolean }[]).find((u) => u.email === email)!;
  expect([uma.role, uma.is_active]).toEqual(["staff", false]);
});

test("a staff member who is not an admin is told the console is for admins, and the API refuses them", async ({ page, request }) => {
  await signInAt(page, "/staff/console", STAFF);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("The manager's console is for admins only");
  await expect(page.getByRole("navigation", { name: "Staff screens" }).getByRole("link", { name: "Console" })).toHaveCount(0);
  const token = await apiToken(request, STAFF.email, STAFF.password);
  const refused = await request.get("/users/", { headers: { Authorization: `Bearer ${token}` } });
  expect(refused.status()).toBe(403);
});
