// What the API says went wrong, in words for a person, and which field it was about.

export type FieldErrors = Record<string, string>;

export interface Problem {
  message: string;
  fields: FieldErrors;
  alternatives: string[];
  status?: number;
}

interface ErrorShape {
  detail?: unknown;
  errors?: { loc?: (string | number)[]; msg?: string }[];
  alternatives?: string[] | null;
}

/** A validator's words, as a person would say them. */
function plain(message: string): string {
  const text = message.replace(/^Value error, /, "");
  if (/Field required|at least 1 (character|item)/.test(text)) return "Please fill this in.";
  if (/valid email address/.test(text)) return "Please give an e-mail address such as name@example.com.";
  const least = /at least (\d+) characters?/.exec(text);
  if (least) return `Please use at least ${least[1]} characters.`;
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export function problem(error: unknown, response?: Response): Problem {
  const body = (error ?? {}) as ErrorShape;
  const fields: FieldErrors = {};
  for (const item of body.errors ?? []) {
    const loc = item.loc ?? [];
    const name = String(loc[loc.length - 1] ?? "");
    if (name && item.msg && !(name in fields)) fields[name] = plain(item.msg);
  }
  let message = typeof body.detail === "string" ? body.detail : "";
  // Each named field's message is shown beside it, so the summary only points there;
  // an error inside a list (opening_hours.sunday.0) keeps the whole sentence.
  const names = (body.errors ?? []).map((item) => item.loc?.[item.loc.length - 1]);
  if (names.length > 0 && names.every((name) => typeof name === "string" && name !== "body")) {
    message = "Please check the fields marked below.";
  } else {
    message = message.replace(/\bbody\./g, "");
  }
  if (!message) {
    message =
      response?.status === 429
        ? "Too many attempts; please wait a minute and try again."
        : response && response.status >= 500
          ? "The restaurant's booking service is not answering just now; please try again shortly."
          : "Something went wrong; please try again.";
  }
  return { message, fields, alternatives: body.alternatives ?? [], status: response?.status };
}

export const offline: Problem = {
  message: "We could not reach the restaurant's booking service. Check your connection and try again.",
  fields: {},
  alternatives: [],
};
