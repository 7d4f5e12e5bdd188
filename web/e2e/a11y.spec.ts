import AxeBuilder from "@axe-core/playwright";
import { expect, test, type Page } from "@playwright/test";
import { chooseDate, newEmail, restaurantDate, screenshot } from "./helpers";

async function noSeriousViolations(page: Page): Promise<void> {
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  const serious = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  expect(
    serious.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`),
  ).toEqual([]);
}

/** A customer with a booking, made through the API as any client could. */
async function bookedGuest(page: Page) {
  const email = newEmail("axe");
  const password = "a-long-enough-password";
  const request = page.request;
  expect((await request.post("/auth/register", { data: { email, password, name: "Ada Axe" } })).status()).toBe(202);
  const token = (await (await request.post("/auth/login", { data: { email, password } })).json()).access_token;
  const headers = { Authorization: `Bearer ${token}` };
  const made = await request.post("/bookings", {
    headers,
    data: { date: restaurantDate(4), time: "13:00", party_size: 2, special_requests: "Window seat, please" },
  });
  expect(made.status(), await made.text()).toBe(201);
  const id = (await made.json()).id;
  const link = await (await request.get(`/bookings/${id}/manage-link`, { headers })).json();
  return { email, password, token: link.token as string };
}

// Every guest page, at a phone's width and a desktop's: no serious or critical axe-core
// violation, and a screenshot for review.
for (const width of [375, 1280]) {
  test.describe(`at ${width} px`, () => {
    test.use({ viewport: { width, height: 900 } });

    test("the booking widget, its steps and the sign-up form", async ({ page }, info) => {
      await page.goto("/");
      await chooseDate(page, restaurantDate(1));
      await expect(page.getByRole("button", { name: "18:00, free" })).toBeVisible();
      await noSeriousViolations(page);
      await screenshot(page, info, "book-day");
      await page.getByLabel("Number of guests").selectOption("more");
      await expect(page.getByText(/please call us on/)).toBeVisible();
      await noSeriousViolations(page);
      await screenshot(page, info, "large-party");
      await page.getByLabel("Number of guests").selectOption("2");
      await page.getByRole("button", { name: "18:00, free" }).click();
      await page.getByRole("button", { name: "Create account and continue" }).click();
      await expect(page.getByLabel("Your name")).toHaveAttribute("aria-invalid", "true");
      await noSeriousViolations(page);
      await screenshot(page, info, "sign-up-errors");
    });

    test("the manage page, the account page and the reset page", async ({ page }, info) => {
      const guest = await bookedGuest(page);
      await page.goto(`/manage/${guest.token}`);
      await expect(page.getByRole("heading", { level: 1 })).toHaveText("Your booking");
      await noSeriousViolations(page);
      await page.getByRole("button", { name: "Change booking" }).click();
      await expect(page.getByRole("heading", { name: "Change the booking" })).toBeVisible();
      await noSeriousViolations(page);
      await screenshot(page, info, "manage-change");

      await page.goto("/manage/not-a-real-token");
      await expect(page.getByRole("heading", { level: 1 })).toHaveText("This link no longer opens a booking");
      await noSeriousViolations(page);
      await screenshot(page, info, "manage-invalid");

      await page.goto("/account");
      await expect(page.getByRole("heading", { name: "Your account" })).toBeVisible();
      await noSeriousViolations(page);
      await page.getByRole("button", { name: "I have an account" }).click();
      await page.getByLabel("E-mail").fill(guest.email);
      await page.getByLabel("Password").fill(guest.password);
      await page.getByRole("button", { name: "Sign in and continue" }).click();
      await expect(page.getByRole("heading", { level: 1 })).toHaveText("Hello, Ada Axe");
      await expect(page.getByText("Window seat, please")).toBeVisible();
      await noSeriousViolations(page);
      await screenshot(page, info, "account");

      await page.goto("/account/reset?token=expired");
      await expect(page.getByRole("heading", { level: 1 })).toHaveText("Choose a new password");
      await noSeriousViolations(page);
      await screenshot(page, info, "reset");
    });
  });
}
