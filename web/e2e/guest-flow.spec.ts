import { expect, test } from "@playwright/test";
import {
  chooseDate,
  choosePartySize,
  mailTo,
  manageLink,
  newEmail,
  restaurantDate,
  screenshot,
  signUpInline,
} from "./helpers";

// The "done when", in a browser: a newcomer books a table for 4 tomorrow at
// 19:00, receives the e-mail at a real SMTP server, opens its link (signed out), moves
// the booking to 19:30 and cancels it. On a phone's width and a desktop's, with the
// device's clock in another time zone than the restaurant's.
for (const width of [375, 1280]) {
  test.describe(`at ${width} px`, () => {
    test.use({ viewport: { width, height: 900 }, timezoneId: "Pacific/Kiritimati" });

    test("book for 4 tomorrow at 19:00, follow the e-mail, move to 19:30, cancel", async ({
      page,
      browser,
      request,
    }, info) => {
      const email = newEmail(`flow${width}`);
      const tomorrow = restaurantDate(1);

      await page.goto("/");
      await expect(page.getByRole("heading", { level: 1 })).toHaveText("Book a table at Trattoria Test");
      await screenshot(page, info, "book");
      await choosePartySize(page, 4);
      await chooseDate(page, tomorrow);
      await page.getByRole("button", { name: "19:00, free" }).click();
      await expect(page.getByRole("heading", { name: /^4 guests, .* at 19:00$/ })).toBeVisible();
      await screenshot(page, info, "book-sign-up");

      await signUpInline(page, email);
      // What was picked survives signing up.
      await expect(page.getByText("Booking as Alex Newcomer")).toBeVisible();
      await expect(page.getByRole("heading", { name: /^4 guests, .* at 19:00$/ })).toBeVisible();
      await page.getByRole("button", { name: "Book for 4 at 19:00" }).click();

      await expect(page).toHaveURL(/\/manage\/[^/]+\?booked=1$/);
      await expect(page.getByRole("heading", { level: 1 })).toHaveText("You're booked!");
      const reference = await page.locator(".notice strong").first().textContent();
      expect(reference).toMatch(/^#\d+$/);
      await screenshot(page, info, "confirmation");
      const calendar = page.getByRole("link", { name: "Add to calendar" });
      const ics = await request.get((await calendar.getAttribute("href"))!);
      expect(ics.status()).toBe(200);
      expect(ics.headers()["content-type"]).toContain("text/calendar");
      expect(await ics.text()).toContain("BEGIN:VEVENT");

      const confirmed = await mailTo(info, email, /^Booking confirmed: Trattoria Test/);
      expect(confirmed.text).toContain("19:00");
      const link = manageLink(confirmed);

      // The link works without signing in: a fresh browser context.
      const guest = await browser.newContext({ viewport: { width, height: 900 }, timezoneId: "Pacific/Kiritimati" });
      const manage = await guest.newPage();
      await manage.goto(link);
      await expect(manage.getByRole("heading", { level: 1 })).toHaveText("Your booking");
      await expect(manage.getByRole("heading", { name: /at 19:00$/ })).toBeVisible();
      await expect(manage.getByText(reference!)).toBeVisible();
      await screenshot(manage, info, "manage");

      await manage.getByRole("button", { name: "Change booking" }).click();
      await manage.getByRole("button", { name: /^19:30/ }).click();
      await manage.getByRole("button", { name: /^Change to 4, .* at 19:30$/ }).click();
      await expect(manage.getByRole("status").filter({ hasText: "Your booking has been changed" })).toBeVisible();
      await expect(manage.getByRole("heading", { name: /at 19:30$/ })).toBeVisible();
      const changed = await mailTo(info, email, /^Booking changed: Trattoria Test, .* at 19:30/);
      expect(changed.text).toContain("19:30");

      await manage.getByRole("button", { name: "Cancel booking" }).click();
      await manage.getByRole("button", { name: "Yes, cancel it" }).click();
      await expect(manage.getByRole("heading", { level: 1 })).toHaveText("Your booking is cancelled");
      await expect(manage.getByText(`reference ${reference}`)).toBeVisible();
      await mailTo(info, email, /^Booking cancelled: Trattoria Test/);
      await screenshot(manage, info, "manage-cancelled");
      await guest.close();
    });
  });
}
