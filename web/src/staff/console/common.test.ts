import { describe, expect, it } from "vitest";
import type { AffectedBooking } from "../../client/types.gen";
import { strandedBy, strandOutcome, whole } from "./common";

const booking: AffectedBooking = {
  id: 7,
  date: "2026-12-06",
  time: "19:00",
  party_size: 2,
  status: "confirmed",
  table_id: 1,
  table_number: 1,
  guest_name: "Ann Affected",
  reason: "The restaurant is closed on Sunday 6 December",
};

describe("the bookings a change would strand", () => {
  it("are the 409's affected bookings, and nothing else", () => {
    const refused = { error: { detail: "would strand", affected: [booking] }, response: new Response(null, { status: 409 }) };
    expect(strandedBy(refused)).toEqual([booking]);
    expect(strandedBy({ error: { detail: "taken" }, response: new Response(null, { status: 409 }) })).toBeNull();
    expect(strandedBy({ error: { detail: "bad", affected: [booking] }, response: new Response(null, { status: 422 }) })).toBeNull();
    expect(strandedBy({ data: {}, response: new Response(null, { status: 200 }) })).toBeNull();
  });

  it("are counted in words once the change went ahead", () => {
    expect(strandOutcome({ cancelled: [booking] })).toBe(" 1 booking cancelled (each guest e-mailed why).");
    expect(strandOutcome({ moved: [], cancelled: [booking, { ...booking, id: 8 }] })).toBe(
      " 2 bookings cancelled (each guest e-mailed why).",
    );
    expect(strandOutcome({})).toBe("");
    expect(strandOutcome(undefined)).toBe("");
  });
});

describe("whole numbers from a field", () => {
  it("takes digits only", () => {
    expect(whole(" 42 ")).toBe(42);
    expect(whole("-3")).toBe(-3);
    expect(whole("4.5")).toBeNull();
    expect(whole("")).toBeNull();
    expect(whole("12abc")).toBeNull();
  });
});
