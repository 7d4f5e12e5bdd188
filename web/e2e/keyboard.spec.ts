import { expect, test } from "@playwright/test";
import { newEmail, restaurantDate, tabTo } from "./helpers";

// The whole booking flow with the keyboard alone: Tab to move, arrows in the calendar,
// Enter or Space to act, typing into fields. No mouse event is sent.
test("a table is booked with the keyboard alone", async ({ page }) => {
  const email = newEmail("keys");
  const target = restaurantDate(2);
  await page.goto("/");
  await expect(page.getByRole("heading", { level: 1 })).toBeVisible();

  // The skip link comes first and is visible when focused.
  await page.keyboard.press("Tab");
  const skip = page.getByRole("link", { name: "Skip to content" });
  await expect(skip).toBeFocused();
  await expect(skip).toBeInViewport();

  const party = page.getByLabel("Number of guests");
  await tabTo(page, party);
  await page.keyboard.type("3");
  await expect(party).toHaveValue("3");

  // The calendar is one tab stop: today; the arrow keys move to the day wanted.
  const today = page.locator("button.day[tabindex='0']");
  await tabTo(page, today);
  for (let i = 0; i < 2; i++) await page.keyboard.press("ArrowRight");
  await expect(page.locator(`button.day[data-date="${target}"]`)).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(page.locator(`button.day[data-date="${target}"]`)).toHaveAttribute("aria-pressed", "true");

  const slot = page.getByRole("button", { name: "20:00, free" });
  await tabTo(page, slot, 200); // a day's times are one tab stop each
  await page.keyboard.press("Enter");
  // Focus moves to what comes next: the step's heading.
  await expect(page.getByRole("heading", { name: /^3 guests, .* at 20:00$/ })).toBeFocused();

  await tabTo(page, page.getByRole("button", { name: "New here" }));
  await page.keyboard.press("Enter");
  await tabTo(page, page.getByLabel("Your name"));
  await page.keyboard.type("Kim Keyboard");
  await page.keyboard.press("Tab");
  await expect(page.getByLabel("E-mail")).toBeFocused();
  await page.keyboard.type(email);
  await page.keyboard.press("Tab");
  await page.keyboard.type("020 7946 0456");
  await tabTo(page, page.getByLabel("Password"));
  await page.keyboard.type("short");
  await page.keyboard.press("Enter");
  // A bad field is announced and tied to its input.
  const password = page.getByLabel("Password");
  await expect(password).toHaveAttribute("aria-invalid", "true");
  const described = await password.getAttribute("aria-describedby");
  expect(described).toBeTruthy();
  const error = page.locator(`[id="${described!.split(" ").pop()}"]`);
  await expect(error).toHaveAttribute("role", "alert");
  await expect(error).toContainText(/8 characters/);

  await password.focus();
  await page.keyboard.press("ControlOrMeta+a");
  await page.keyboard.type("a-long-enough-password");
  await page.keyboard.press("Enter");
  await expect(page.getByText("Booking as Kim Keyboard")).toBeVisible();

  const book = page.getByRole("button", { name: "Book for 3 at 20:00" });
  await tabTo(page, book);
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/\/manage\/[^/]+\?booked=1$/);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("You're booked!");
  await expect(page.getByRole("heading", { level: 1 })).toBeFocused();
});
