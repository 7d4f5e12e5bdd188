import { describe, expect, it } from "vitest";
import { addDays, addMonths, daysInMonth, describeMinutes, mondayIndex, restaurantNow, weekday } from "./dates";

describe("the restaurant's clock", () => {
  it("reads today's date in the restaurant's zone, not the device's", () => {
    // 23:30 UTC on 31 December is already 1 January in Auckland, still 31 December in London.
    const instant = new Date(Date.UTC(2026, 11, 31, 23, 30));
    expect(restaurantNow("Europe/London", instant)).toEqual({ date: "2026-12-31", minutes: 23 * 60 + 30 });
    expect(restaurantNow("Pacific/Auckland", instant).date).toBe("2027-01-01");
  });

  it("counts summer time", () => {
    const noonUtc = new Date(Date.UTC(2026, 6, 1, 12, 0));
    expect(restaurantNow("Europe/London", noonUtc).minutes).toBe(13 * 60);
  });
});

describe("calendar arithmetic on dates", () => {
  it("crosses months, years and leap days", () => {
    expect(addDays("2026-12-31", 1)).toBe("2027-01-01");
    expect(addDays("2028-02-28", 1)).toBe("2028-02-29");
    expect(addDays("2026-03-29", 1)).toBe("2026-03-30"); // the clocks go forward that night
    expect(addMonths("2026-01-31", 1)).toBe("2026-02-01");
    expect(daysInMonth("2028-02-10")).toBe(29);
    expect(daysInMonth("2026-02-10")).toBe(28);
  });

  it("names weekdays with weeks starting on Monday", () => {
    expect(weekday("2026-12-04")).toBe("friday");
    expect(mondayIndex("2026-12-07")).toBe(0);
    expect(mondayIndex("2026-12-06")).toBe(6);
  });

  it("says how long a rule's minutes are in words", () => {
    expect(describeMinutes(30)).toBe("30 minutes");
    expect(describeMinutes(120)).toBe("2 hours");
    expect(describeMinutes(24 * 60)).toBe("24 hours");
    expect(describeMinutes(2 * 24 * 60)).toBe("2 days");
  });
});
