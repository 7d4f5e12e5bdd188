import { expect, test } from "@playwright/test";
import { ADMIN, apiToken, bookingSeatableNow, signInAt, STAFF } from "./helpers";

// Issue 23's "done when", in browsers: the host sees the evening's bookings and seats a
// booked party and a walk-in; the waiter's order (from the host stand's table panel)
// appears on the kitchen display at once; the cook bumps it to ready (and served); the
// bill is split three ways, paid, and the table released and cleaned; the manager sees
// the evening's covers and revenue.
test("a service evening across the host stand, the kitchen display and the console", async ({ browser, request }) => {
  test.setTimeout(120_000);
  const admin = { Authorization: `Bearer ${await apiToken(request, ADMIN.email, ADMIN.password)}` };
  const booking = await bookingSeatableNow(request, admin, { name: "Olga Evening", phone: "+442079460321" });
  const before = await (await request.get("/api/reports/day", { headers: admin })).json();

  const hostContext = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
  const kitchenContext = await browser.newContext({ viewport: { width: 1024, height: 768 } });
  const host = await hostContext.newPage();
  const pass = await kitchenContext.newPage();
  await signInAt(host, "/staff/host", STAFF);
  await signInAt(pass, "/staff/kitchen", STAFF);
  await expect(host.getByText("Live", { exact: true })).toBeVisible();
  await expect(pass.getByText("Live", { exact: true })).toBeVisible();

  await host.getByLabel("Day", { exact: true }).fill(booking.date);
  await expect(host.locator(".day-row").filter({ hasText: "Olga Evening" })).toContainText("3");
  await host.getByRole("button", { name: "Seat Olga Evening" }).click();
  const table = host.locator(`[data-table="${booking.table_number}"]`);
  await expect(table).toHaveClass(/occupied/);
  await host.getByLabel("Party size", { exact: true }).fill("2");
  await host.getByRole("button", { name: /^Seat at table \d+/ }).first().click();
  await expect(host.getByRole("status").filter({ hasText: /Walk-in of 2 seated/ })).toBeVisible();

  // The waiter takes the order at Olga's table.
  await table.click();
  const panel = host.getByRole("group", { name: /^Order #\d+/ });
  await panel.getByLabel("Dish").selectOption({ label: "Fish and chips (17.00)" });
  await panel.getByLabel("Quantity").fill("3");
  await panel.getByLabel("Seat").fill("2");
  await panel.getByLabel("Notes").fill("no peas");
  await panel.getByRole("button", { name: "Send to kitchen" }).click();
  await expect(panel).toContainText("3 × Fish and chips · seat 2 — no peas");

  // On the pass, at once, with no reload.
  const card = pass.getByRole("article", { name: new RegExp(`table ${booking.table_number}, pending`) });
  await expect(card).toBeVisible({ timeout: 2_000 });
  await expect(card).toContainText("3 × Fish and chips");
  await card.getByRole("button", { name: "pending → preparing" }).click();
  await pass.getByRole("button", { name: "preparing → ready" }).first().click();
  const ready = pass.getByRole("article", { name: new RegExp(`table ${booking.table_number}, ready`) });
  await expect(ready).toBeVisible();
  // The waiter's view at the table shows it ready, without a reload.
  await expect(panel.getByRole("list", { name: "In the kitchen" })).toContainText("3 × Fish and chips — ready");
  await ready.getByRole("button", { name: "ready → served" }).click();
  await expect(ready).toHaveCount(0);

  // The bill: 3 × 17.00, split three ways, paid; the table released and cleaned.
  await panel.getByRole("button", { name: "Bill", exact: true }).click();
  await expect(host.getByRole("table", { name: /^Bill for order/ })).toContainText("51.00");
  await panel.getByLabel("Split into").fill("3");
  await panel.getByRole("button", { name: "Split equally" }).click();
  const split = host.getByRole("list", { name: "Split bills" });
  await expect(split.getByRole("listitem")).toHaveCount(3);
  await expect(split).toContainText("17.00");
  await panel.getByRole("button", { name: "Paid: close the bill" }).click();
  await expect(host.getByRole("status").filter({ hasText: /paid and closed/ })).toBeVisible();
  await host.getByRole("button", { name: "Release" }).click();
  await expect(table).toHaveClass(/cleaning/);
  await table.click();
  await host.getByRole("button", { name: "Mark clean" }).click();
  await expect(table).toHaveClass(/available/);

  // The manager's figures for the evening.
  const office = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
  const manager = await office.newPage();
  await signInAt(manager, "/staff/console", ADMIN);
  const figures = manager.getByRole("region", { name: "Figures" }).getByRole("table");
  await expect(figures.getByRole("row", { name: /^Revenue/ }).getByRole("cell").first()).toHaveText(
    (Number(before.revenue) + 51).toFixed(2),
  );
  await expect(figures.getByRole("row", { name: /^Covers seated/ }).getByRole("cell").first()).toHaveText(
    String(before.seated_covers + 5),
  );
  await hostContext.close();
  await kitchenContext.close();
  await office.close();
});
