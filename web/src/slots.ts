// The day view's slots as the booking pages offer them. The API lists every slot of the
// day, each `bookable` or not with its `reason`; the pages show the times still to come
// (not those past or inside the lead time) and offer only the bookable ones.
import type { DaySlot } from "./client/types.gen";

const BEHIND_US = new Set(["past", "lead_time"]);

/** The slots still to come: a passed time, or one inside the lead time, is left out. */
export function upcoming(slots: DaySlot[]): DaySlot[] {
  return slots.filter((slot) => !(slot.reason && BEHIND_US.has(slot.reason.code)));
}

/** The slots that can be booked now. */
export function bookable(slots: DaySlot[]): DaySlot[] {
  return slots.filter((slot) => slot.bookable);
}
