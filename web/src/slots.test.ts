import { describe, expect, it } from "vitest";
import type { DaySlot } from "./client/types.gen";
import { bookable, upcoming } from "./slots";

const slot = (time: string, code: string | null): DaySlot => ({
  time,
  starts_at: `2030-01-04T${time}:00Z`,
  available_tables: code ? 0 : 3,
  bookable: code === null,
  reason: code ? { code: code as NonNullable<DaySlot["reason"]>["code"], message: `${time}: ${code}` } : null,
});

describe("the day's slots", () => {
  const day = [
    slot("09:45", "past"),
    slot("10:15", "lead_time"),
    slot("19:00", "paced_out"),
    slot("19:15", "no_table"),
    slot("19:30", null),
  ];

  it("shows the times still to come, full ones included", () => {
    expect(upcoming(day).map((s) => s.time)).toEqual(["19:00", "19:15", "19:30"]);
  });

  it("offers only the bookable ones: a paced-out slot is not offered", () => {
    expect(bookable(day).map((s) => s.time)).toEqual(["19:30"]);
  });
});
