import { expect, test, type APIRequestContext } from "@playwright/test";
import { newEmail, restaurantDate } from "./helpers";

async function customerWithBookings(request: APIRequestContext, email: string, password: string) {
  expect((await request.post("/auth/register", { data: { email, password, name: "Cleo Account" } })).status()).toBe(202);
  const token = (await (await request.post("/auth/login", { data: { email, password } })).json()).access_token;
  const ids: number[] = [];
  for (const days of [5, 6]) {
    const made = await request.post("/bookings", {
      headers: { Authorization: `Bearer ${token}` },
      data: { date: restaurantDate(days), time: "13:00", party_size: 2 },
    });
    expect(made.status(), await made.text()).toBe(201);
    ids.push((await made.json()).id);
  }
  return ids;
}

// A guest's own page: their bookings, changed and cancelled there; their details and
// password, and still signed in after changing it.
test("account: change and cancel bookings, edit details and password", async ({ page, request }) => {
  const email = newEmail("account");
  const password = "a-long-enough-password";
  const [first, second] = await customerWithBookings(request, email, password);

  await page.goto("/account");
  await page.getByRole("button", { name: "I have an account" }).click();
  await page.getByLabel("E-mail").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in and continue" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Hello, Cleo Account");

  const upcoming = page.getByRole("region", { name: "Upcoming bookings" });
  const one = upcoming.getByRole("article").filter({ hasText: `#${first}` });
  await one.getByRole("button", { name: "Change booking" }).click();
  await one.getByRole("button", { name: /^14:00/ }).click();
  await one.getByRole("button", { name: /^Change to 2, .* at 14:00$/ }).click();
  await expect(one.getByRole("status")).toHaveText(/Your booking has been changed/);
  await expect(one.getByRole("heading", { name: /at 14:00$/ })).toBeVisible();

  const two = upcoming.getByRole("article").filter({ hasText: `#${second}` });
  await two.getByRole("button", { name: "Cancel booking" }).click();
  await two.getByRole("button", { name: "Yes, cancel it" }).click();
  const announced = upcoming.getByRole("status").filter({ hasText: `Your booking #${second} is cancelled` });
  await expect(announced).toBeVisible();
  await expect(announced).toBeFocused();
  const past = page.getByRole("region", { name: "Past and cancelled" });
  await expect(past.getByRole("article").filter({ hasText: `#${second}` })).toContainText("Cancelled");
  await expect(upcoming.getByRole("article")).toHaveCount(1);

  const details = page.getByRole("region", { name: "Your details" });
  await details.getByLabel("Phone").fill("12");
  await details.getByRole("button", { name: "Save details" }).click();
  await expect(details.getByLabel("Phone")).toHaveAttribute("aria-invalid", "true");
  await details.getByLabel("Name").fill("Cleo Renamed");
  await details.getByLabel("Phone").fill("020 7946 0999");
  await details.getByRole("button", { name: "Save details" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Hello, Cleo Renamed");

  const secret = page.getByRole("region", { name: "Change password" });
  await secret.getByLabel("Current password").fill("not-the-password");
  await secret.getByLabel("New password").fill("another-long-password");
  await secret.getByRole("button", { name: "Change password" }).click();
  await expect(secret.getByRole("alert").filter({ hasText: /./ }).first()).toBeVisible();
  await secret.getByLabel("Current password").fill(password);
  await secret.getByRole("button", { name: "Change password" }).click();
  await expect(secret.getByRole("status")).toHaveText(/Password changed/);

  // Changing the password revoked every sign-in; this browser signed in again with the
  // new one, so a reload finds it still signed in.
  await page.reload();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Hello, Cleo Renamed");
  const old = await request.post("/auth/login", { data: { email, password } });
  expect(old.status()).toBe(401);
});
