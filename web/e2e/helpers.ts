import { expect, type APIRequestContext, type Locator, type Page, type TestInfo } from "@playwright/test";
import { readdirSync, readFileSync, existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));

export const ZONE = "Europe/London"; // the service's default RESTAURANT_TIMEZONE
export const SCREENS = path.resolve(here, "..", "test-results", "screens");

export interface Mail {
  to: string[];
  subject: string;
  text: string;
}

/** The restaurant's date `days` from today, as YYYY-MM-DD. */
export function restaurantDate(days: number): string {
  const today = new Intl.DateTimeFormat("en-CA", { timeZone: ZONE }).format(new Date());
  const [y, m, d] = today.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

let counter = 0;
export function newEmail(tag: string): string {
  counter += 1;
  return `${tag}-${Date.now().toString(36)}-${counter}@guests.example`;
}

/** Waits for an e-mail to `to` whose subject matches, as the real SMTP server got it. */
export async function mailTo(info: TestInfo, to: string, subject: RegExp): Promise<Mail> {
  const folder = info.project.metadata.mailDir as string;
  let found: Mail | undefined;
  await expect
    .poll(
      () => {
        if (!existsSync(folder)) return false;
        for (const name of readdirSync(folder).filter((n) => n.endsWith(".json")).sort()) {
          const mail = JSON.parse(readFileSync(path.join(folder, name), "utf-8")) as Mail;
          if (mail.to.includes(to) && subject.test(mail.subject)) {
            found = mail;
            return true;
          }
        }
        return false;
      },
      { timeout: 20_000, message: `an e-mail to ${to} matching ${subject}` },
    )
    .toBe(true);
  return found!;
}

export function manageLink(mail: Mail): string {
  const match = /https?:\/\/\S+\/manage\/[A-Za-z0-9._-]+/.exec(mail.text);
  if (!match) throw new Error(`no manage link in: ${mail.text}`);
  return match[0];
}

export async function screenshot(page: Page, info: TestInfo, name: string): Promise<void> {
  mkdirSync(SCREENS, { recursive: true });
  const width = page.viewportSize()?.width ?? 0;
  await page.screenshot({ path: path.join(SCREENS, `${info.project.name}-${name}-${width}.png`), fullPage: true });
}

/** Opens the calendar's month holding `date` and clicks the day. */
export async function chooseDate(page: Page, date: string): Promise<void> {
  const day = page.locator(`button.day[data-date="${date}"]`).first();
  await page.locator(".calendar").first().waitFor();
  for (let i = 0; i < 4 && !(await day.isVisible()); i++) {
    await page.getByRole("button", { name: "Next month" }).first().click();
  }
  await day.click();
}

export async function choosePartySize(page: Page, size: number): Promise<void> {
  await page.getByLabel("Number of guests").first().selectOption(String(size));
}

/** Signs a new guest up in the inline form. */
export async function signUpInline(page: Page, email: string, name = "Alex Newcomer"): Promise<void> {
  await page.getByRole("button", { name: "New here" }).click();
  await page.getByLabel("Your name").fill(name);
  await page.getByLabel("E-mail").fill(email);
  await page.getByLabel("Phone (optional)").fill("020 7946 0123");
  await page.getByLabel("Password").fill("a-long-enough-password");
  await page.getByRole("button", { name: "Create account and continue" }).click();
}

/** Presses Tab until `target` has the focus (at most `limit` times): proves it is
 * reachable by keyboard, in the page's own tab order. */
export async function tabTo(page: Page, target: Locator, limit = 80): Promise<void> {
  for (let i = 0; i < limit; i++) {
    if (await target.evaluate((el) => el === document.activeElement).catch(() => false)) return;
    await page.keyboard.press("Tab");
  }
  throw new Error(`Tab never reached ${target}`);
}

export async function apiToken(request: APIRequestContext, email: string, password: string): Promise<string> {
  const answer = await request.post("/auth/login", { data: { email, password } });
  expect(answer.status(), await answer.text()).toBe(200);
  return (await answer.json()).access_token as string;
}

export const ADMIN = { email: "admin@example.com", password: "admin-password" };

export const STAFF = { email: "staff@example.com", password: "staff-password" };
const WEEK = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];

export async function signInAt(page: Page, path: string, who: { email: string; password: string }) {
  await page.goto(path);
  await page.getByLabel("E-mail").fill(who.email);
  await page.getByLabel("Password").fill(who.password);
  await page.getByRole("button", { name: "Sign in and continue" }).click();
}

/** A booking the host can seat now, whatever the time of day: the restaurant opens all
 * day with no lead time, and a table is held (seatable) four hours ahead. */
export async function bookingSeatableNow(
  request: APIRequestContext,
  auth: Record<string, string>,
  guest = { name: "Hana Host", phone: "+442079460777" },
) {
  const hours = Object.fromEntries(WEEK.map((day) => [day, [{ opens: "00:00", closes: "23:59" }]]));
  const opened = await request.patch("/restaurant", {
    headers: auth,
    data: { opening_hours: hours, lead_minutes: 0, hold_minutes: 240 },
  });
  expect(opened.status(), await opened.text()).toBe(200);
  for (const date of [restaurantDate(0), restaurantDate(1)]) {
    const day = await (await request.get(`/bookings/availability?date=${date}&party_size=3`)).json();
    const slot = (day.slots as { time: string; starts_at: string; available_tables: number }[]).find(
      (s) => s.available_tables > 0,
    );
    if (!slot) continue;
    expect(Date.parse(slot.starts_at) - Date.now()).toBeLessThan(4 * 3600_000);
    const made = await request.post("/bookings", {
      headers: auth,
      data: { date, time: slot.time, party_size: 3, source: "phone", guest },
    });
    expect(made.status(), await made.text()).toBe(201);
    return { ...(await made.json()), date } as { id: number; table_number: number; date: string };
  }
  throw new Error("no slot within four hours");
}

