// Dates and times as the restaurant's clock shows them, whatever the device's time zone.
// The API speaks restaurant-local dates (YYYY-MM-DD) and times (HH:MM); the app never
// turns them into device-local Date objects. Calendar arithmetic runs on UTC midnights.

export type IsoDate = string; // YYYY-MM-DD

const WEEKDAYS = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"];

function utc(date: IsoDate): Date {
  const [y, m, d] = date.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d));
}

function iso(value: Date): IsoDate {
  return value.toISOString().slice(0, 10);
}

/** Today's date and the time now, on the restaurant's clock. */
export function restaurantNow(timeZone: string, now: Date = new Date()): { date: IsoDate; minutes: number } {
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).formatToParts(now);
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? "00";
  return {
    date: `${part("year")}-${part("month")}-${part("day")}`,
    minutes: Number(part("hour")) * 60 + Number(part("minute")),
  };
}

export function addDays(date: IsoDate, days: number): IsoDate {
  const value = utc(date);
  value.setUTCDate(value.getUTCDate() + days);
  return iso(value);
}

export function addMonths(date: IsoDate, months: number): IsoDate {
  const value = utc(date);
  value.setUTCDate(1);
  value.setUTCMonth(value.getUTCMonth() + months);
  return iso(value);
}

export function startOfMonth(date: IsoDate): IsoDate {
  return `${date.slice(0, 7)}-01`;
}

export function weekday(date: IsoDate): string {
  return WEEKDAYS[utc(date).getUTCDay()];
}

/** Monday = 0 … Sunday = 6, for a calendar whose weeks start on Monday. */
export function mondayIndex(date: IsoDate): number {
  return (utc(date).getUTCDay() + 6) % 7;
}

export function daysInMonth(date: IsoDate): number {
  const value = utc(startOfMonth(date));
  value.setUTCMonth(value.getUTCMonth() + 1);
  value.setUTCDate(0);
  return value.getUTCDate();
}

export function formatDate(date: IsoDate, style: "long" | "short" = "long"): string {
  return new Intl.DateTimeFormat("en-GB", {
    timeZone: "UTC",
    weekday: style === "long" ? "long" : "short",
    day: "numeric",
    month: style === "long" ? "long" : "short",
    year: style === "long" ? "numeric" : undefined,
  }).format(utc(date));
}

export function formatMonth(date: IsoDate): string {
  return new Intl.DateTimeFormat("en-GB", { timeZone: "UTC", month: "long", year: "numeric" }).format(
    utc(date),
  );
}

export function toMinutes(time: string): number {
  const [h, m] = time.split(":").map(Number);
  return h * 60 + m;
}

export function hhmm(time: string): string {
  return time.slice(0, 5);
}

export function describeMinutes(minutes: number): string {
  if (minutes % (24 * 60) === 0 && minutes > 0) {
    const days = minutes / (24 * 60);
    return days === 1 ? "24 hours" : `${days} days`;
  }
  if (minutes % 60 === 0 && minutes > 0) {
    const hours = minutes / 60;
    return hours === 1 ? "1 hour" : `${hours} hours`;
  }
  return `${minutes} minutes`;
}
