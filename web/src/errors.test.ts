import { describe, expect, it } from "vitest";
import { problem } from "./errors";
import { readableOn } from "./restaurant";

describe("the API's errors in words", () => {
  it("ties each field error to its field and keeps the alternatives", () => {
    const found = problem(
      {
        detail: "Invalid input",
        errors: [
          { loc: ["body", "password"], msg: "String should have at least 8 characters" },
          { loc: ["body", "phone"], msg: "Value error, not a valid phone number" },
        ],
        alternatives: ["18:45", "19:30"],
      },
      new Response(null, { status: 422 }),
    );
    expect(found.message).toBe("Please check the fields marked below.");
    expect(found.fields).toEqual({
      password: "Please use at least 8 characters.",
      phone: "Not a valid phone number",
    });
    expect(found.alternatives).toEqual(["18:45", "19:30"]);
    expect(found.status).toBe(422);
  });

  it("keeps the whole sentence for an error inside a list, without the body prefix", () => {
    const found = problem({
      detail: "body.opening_hours.sunday.0: closes (11:00) must be after opens (12:00)",
      errors: [{ loc: ["body", "opening_hours", "sunday", 0], msg: "closes (11:00) must be after opens (12:00)" }],
    });
    expect(found.message).toBe("opening_hours.sunday.0: closes (11:00) must be after opens (12:00)");
  });

  it("says what to do when the answer has no words", () => {
    expect(problem(undefined, new Response(null, { status: 429 })).message).toMatch(/wait a minute/);
    expect(problem(undefined, new Response(null, { status: 503 })).message).toMatch(/not answering/);
  });
});

describe("text on the restaurant's colour", () => {
  it("is white on a dark colour and black on a light one", () => {
    expect(readableOn("#7a2e1f")).toBe("#ffffff");
    expect(readableOn("#f5d76e")).toBe("#000000");
  });
});
