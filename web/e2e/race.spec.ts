import { expect, test, type Page } from "@playwright/test";
import { ADMIN, apiToken, chooseDate, choosePartySize, newEmail, restaurantDate, signUpInline } from "./helpers";

const TIME = "19:00";

async function readyToBook(page: Page, date: string, email: string): Promise<void> {
  await page.goto("/");
  await choosePartySize(page, 2);
  await chooseDate(page, date);
  await page.getByRole("button", { name: `${TIME}, free` }).click();
  await signUpInline(page, email);
  await expect(page.getByRole("button", { name: `Book for 2 at ${TIME}` })).toBeEnabled();
}

// Two guests in two browsers press "Book" at once for the last free table: one gets it,
// the other is told and offered other times, not a dead end.
test("two browsers race for the last table", async ({ browser, request }) => {
  const date = restaurantDate(3);
  const token = await apiToken(request, ADMIN.email, ADMIN.password);
  const auth = { Authorization: `Bearer ${token}` };
  // Staff fill every table but one at 19:00 on that day.
  const tables = (await (await request.get("/api/tables", { headers: auth })).json()) as unknown[];
  for (let i = 0; i < tables.length - 1; i++) {
    const made = await request.post("/bookings", {
      headers: auth,
      data: { date, time: TIME, party_size: 2, guest: { name: `Filler ${i}`, phone: `+442079460${String(i).padStart(3, "0")}` } },
    });
    expect(made.status(), await made.text()).toBe(201);
  }
  const left = await request.get(`/bookings/availability?date=${date}&party_size=2&time=${TIME}`);
  expect((await left.json()).available_tables).toHaveLength(1);

  const one = await browser.newContext();
  const two = await browser.newContext();
  const [a, b] = [await one.newPage(), await two.newPage()];
  await readyToBook(a, date, newEmail("race-a"));
  await readyToBook(b, date, newEmail("race-b"));

  await Promise.all([
    a.getByRole("button", { name: `Book for 2 at ${TIME}` }).click(),
    b.getByRole("button", { name: `Book for 2 at ${TIME}` }).click(),
  ]);
  const booked = (page: Page) => page.waitForURL(/\/manage\/.+\?booked=1$/, { timeout: 10_000 }).then(() => true, () => false);
  const outcomes = await Promise.all([booked(a), booked(b)]);
  expect(outcomes.filter(Boolean)).toHaveLength(1);
  const loser = outcomes[0] ? b : a;
  await expect(loser.getByRole("alert").filter({ hasText: /no table|free/i })).toBeVisible();
  // Offered something else: other times that day (or, when the day is full, other days).
  const offers = loser.locator(".alternatives button.slot, .nearby button");
  await expect(offers.first()).toBeVisible();
  await offers.first().click();
  await expect(loser.getByRole("button", { name: /^Book for 2 at / })).toBeVisible();

  const full = await request.get(`/bookings/availability?date=${date}&party_size=2&time=${TIME}`);
  expect((await full.json()).available_tables).toHaveLength(0);
  await one.close();
  await two.close();
});
