import AxeBuilder from "@axe-core/playwright";
import { expect, test, type Page } from "@playwright/test";
import { ADMIN, apiToken, bookingSeatableNow, restaurantDate, screenshot, signInAt, STAFF, tabTo } from "./helpers";

async function noSeriousViolations(page: Page): Promise<void> {
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa"]).analyze();
  const serious = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  expect(serious.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`)).toEqual([]);
}

test("the host seats a booked party and a walk-in, merges two tables and releases them", async ({ page, request }, info) => {
  const admin = { Authorization: `Bearer ${await apiToken(request, ADMIN.email, ADMIN.password)}` };
  const booking = await bookingSeatableNow(request, admin);

  await page.setViewportSize({ width: 1280, height: 1000 });
  await signInAt(page, "/staff/host", STAFF);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Host stand");
  await expect(page.getByText("Live", { exact: true })).toBeVisible();
  await page.getByLabel("Day", { exact: true }).fill(booking.date);
  await page.getByRole("button", { name: "Seat Hana Host" }).click();
  await expect(page.getByRole("status").filter({ hasText: `Hana Host seated at table ${booking.table_number}` })).toBeVisible();
  await expect(page.locator(`[data-table="${booking.table_number}"]`)).toHaveClass(/occupied/);

  // A walk-in of 2: seat them at the first free table offered.
  await page.getByLabel("Party size", { exact: true }).fill("2");
  const offer = page.getByRole("button", { name: /^Seat at table \d+/ }).first();
  const walkInTable = (await offer.textContent())!.match(/table (\d+)/)![1];
  await offer.click();
  await expect(page.locator(`[data-table="${walkInTable}"]`)).toHaveClass(/occupied/);

  // Merge two free tables, then release the group: both free again, not merged.
  const free = page.locator(".table-box.available:not(.merged)");
  const first = (await free.nth(0).getAttribute("data-table"))!;
  await free.nth(0).click();
  const merge = page.getByLabel("Merge with");
  const second = (await merge.locator("option").nth(1).textContent())!.match(/Table (\d+)/)![1];
  await merge.selectOption({ index: 1 });
  await page.getByRole("button", { name: "Merge", exact: true }).click();
  await expect(page.locator(`[data-table="${first}"]`)).toHaveClass(/merged/);
  await expect(page.locator(`[data-table="${second}"]`)).toHaveClass(/merged/);
  await screenshot(page, info, "staff-host");
  await noSeriousViolations(page);
  await page.getByRole("button", { name: "Release" }).click();
  await expect(page.locator(`[data-table="${first}"]`)).not.toHaveClass(/merged/);
  await expect(page.locator(`[data-table="${second}"]`)).not.toHaveClass(/merged/);
});

test("a waiter's order reaches the kitchen display live, and the cook's taps reach the waiter", async ({ browser, request }, info) => {
  const staff = { Authorization: `Bearer ${await apiToken(request, STAFF.email, STAFF.password)}` };
  const kitchen = await browser.newContext({ viewport: { width: 1024, height: 768 } });
  const pass = await kitchen.newPage();
  await signInAt(pass, "/staff/kitchen", STAFF);
  await expect(pass.getByRole("heading", { level: 1 })).toHaveText("Kitchen display");
  await expect(pass.getByText("Live", { exact: true })).toBeVisible();

  // The waiter (another screen, through the API) sends an order for a free table.
  const menu = (await (await request.get("/api/menu")).json()) as { id: number; name: string; category: string }[];
  const dish = menu.find((m) => m.category === "mains")!;
  const tables = (await (await request.get("/api/tables/available/?party_size=2", { headers: staff })).json()) as { id: number; table_number: number }[];
  const table = tables[tables.length - 1];
  const sent = await request.post("/api/orders", {
    headers: staff,
    data: { table_id: table.id, customer_count: 2, items: [{ menu_item_id: dish.id, quantity: 2, seat_number: 1, notes: "no salt" }] },
  });
  expect(sent.status(), await sent.text()).toBe(201);
  const order = await sent.json();

  const card = pass.getByRole("article", { name: new RegExp(`table ${table.table_number}, pending`) });
  await expect(card).toBeVisible({ timeout: 2_000 }); // live, no reload
  await expect(card).toContainText(`2 × ${dish.name}`);
  await expect(card).toContainText("seat 1");
  await expect(card).toContainText("no salt");
  await screenshot(pass, info, "staff-kitchen");
  await noSeriousViolations(pass);

  await card.getByRole("button", { name: "pending → preparing" }).click();
  const preparing = pass.getByRole("article", { name: new RegExp(`table ${table.table_number}, preparing`) });
  await preparing.getByRole("button", { name: "preparing → ready" }).click();
  await expect(pass.getByRole("article", { name: new RegExp(`table ${table.table_number}, ready`) })).toBeVisible();
  // The waiter's view (the order through the API) shows it ready.
  await expect
    .poll(async () => {
      const tickets = (await (await request.get("/api/kitchen/orders", { headers: staff })).json()) as { order_id: number; status: string }[];
      return tickets.find((t) => t.order_id === order.id)?.status;
    })
    .toBe("ready");
  // A mistaken tap is undone.
  await pass.getByRole("button", { name: /^Undo last tap/ }).click();
  await expect(pass.getByRole("article", { name: new RegExp(`table ${table.table_number}, preparing`) })).toBeVisible();
  await kitchen.close();
});

test("a customer who opens a staff page is refused, and so is their API call", async ({ page, request }) => {
  await signInAt(page, "/staff/host", { email: "guest@example.com", password: "guest-password" });
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("This page is for the restaurant's staff");
  const token = await apiToken(request, "guest@example.com", "guest-password");
  const refused = await request.get("/api/tables", { headers: { Authorization: `Bearer ${token}` } });
  expect(refused.status()).toBe(403);
  const stream = await request.post("/auth/session/stream", {
    headers: { Authorization: `Bearer ${token}`, "X-Requested-With": "restaurant-web" },
  });
  expect(stream.status()).toBe(403);
});

test("the host takes a phone booking, moves it to another table and finds the guest", async ({ page }, info) => {
  const date = restaurantDate(2);
  await page.setViewportSize({ width: 1280, height: 1000 });
  await signInAt(page, "/staff/host", STAFF);
  const phone = page.getByRole("region", { name: "Phone booking" });
  await phone.getByLabel("Date").fill(date);
  await phone.getByLabel("Time").fill("19:00");
  await phone.getByLabel("Guests").fill("2");
  await phone.getByLabel("Guest's name").fill("Piet Phone");
  await phone.getByLabel("Guest's phone").fill("12");
  await phone.getByRole("button", { name: "Book for the guest" }).click();
  await expect(phone.getByLabel("Guest's phone")).toHaveAttribute("aria-invalid", "true");
  await phone.getByLabel("Guest's phone").fill("020 7946 0888");
  await phone.getByRole("button", { name: "Book for the guest" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Booked Piet Phone for 2" })).toBeVisible();

  await page.getByLabel("Day", { exact: true }).fill(date);
  const row = page.locator(".day-row").filter({ hasText: "Piet Phone" });
  await expect(row).toContainText("19:00");
  const before = (await row.textContent())!.match(/table (\d+)/)![1];
  const timeline = page.getByRole("table", { name: /Bookings per table/ });
  await expect(timeline.getByRole("row").filter({ has: page.getByRole("rowheader", { name: before, exact: true }) })).toContainText("Piet Phone");

  await row.getByRole("button", { name: "Change" }).click();
  const tableChoice = row.getByLabel("Table");
  const other = await tableChoice.locator("option").evaluateAll(
    (options, current) => options.map((o) => (o as HTMLOptionElement).textContent!.split(" ")[0]).find((n) => n !== current),
    before,
  );
  await tableChoice.selectOption({ label: (await tableChoice.locator("option", { hasText: new RegExp(`^${other} `) }).textContent())! });
  await row.getByRole("button", { name: "Save change" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Piet Phone's booking changed" })).toBeVisible();
  await expect(row).toContainText(`table ${other}`);
  await expect(timeline.getByRole("row").filter({ has: page.getByRole("rowheader", { name: other!, exact: true }) })).toContainText("Piet Phone");
  await screenshot(page, info, "staff-host-timeline");

  const guests = page.getByRole("region", { name: "Find a guest" });
  await guests.getByLabel("Name or phone").fill("Piet");
  await guests.getByRole("button", { name: "Search" }).click();
  await expect(guests.getByText("Piet Phone")).toBeVisible();
  await expect(guests).toContainText("+442079460888");
  await guests.getByRole("button", { name: "History" }).click();
  await expect(guests.getByRole("list", { name: "Piet Phone's bookings" })).toContainText("19:00 · 2 · confirmed");
});

test("the kitchen display is worked by keyboard, and shows the guest's allergies to the host", async ({ page, request }) => {
  const staff = { Authorization: `Bearer ${await apiToken(request, STAFF.email, STAFF.password)}` };
  // A phone booking whose guest record has allergies: the host's list shows them.
  const date = restaurantDate(3);
  const made = await request.post("/bookings", {
    headers: staff,
    data: { date, time: "12:30", party_size: 2, source: "phone", guest: { name: "Ana Allergy", phone: "+442079460555" } },
  });
  expect(made.status(), await made.text()).toBe(201);
  const guestId = (await made.json()).guest.id;
  expect((await request.patch(`/api/guests/${guestId}`, { headers: staff, data: { allergies: "peanuts" } })).status()).toBe(200);
  await page.setViewportSize({ width: 1280, height: 1000 });
  await signInAt(page, "/staff/host", STAFF);
  await page.getByLabel("Day", { exact: true }).fill(date);
  await expect(page.locator(".day-row").filter({ hasText: "Ana Allergy" })).toContainText("Allergies: peanuts");

  const menu = (await (await request.get("/api/menu")).json()) as { id: number; category: string }[];
  const drink = menu.find((m) => m.category === "drinks")!;
  const free = (await (await request.get("/api/tables/available/?party_size=1", { headers: staff })).json()) as { id: number; table_number: number }[];
  const table = free[0];
  await page.goto("/staff/kitchen");
  await expect(page.getByText("Live", { exact: true })).toBeVisible();
  const sent = await request.post("/api/orders", {
    headers: staff,
    data: { table_id: table.id, customer_count: 1, items: [{ menu_item_id: drink.id, quantity: 1 }] },
  });
  expect(sent.status()).toBe(201);
  const card = page.getByRole("article", { name: new RegExp(`table ${table.table_number}, pending`) });
  await expect(card).toBeVisible();
  const move = card.getByRole("button", { name: "pending → preparing" });
  await tabTo(page, move);
  await page.keyboard.press("Enter");
  await expect(page.getByRole("article", { name: new RegExp(`table ${table.table_number}, preparing`) })).toBeVisible();
});
