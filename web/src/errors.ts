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

export function problem(error: unknown, response?: Response): Problem {
  const body = (error ?? {}) as ErrorShape;
  const fields: FieldErrors = {};
  for (const item of body.errors ?? []) {
    const loc = item.loc ?? [];
    const name = String(loc[loc.length - 1] ?? "");
    if (name && item.msg && !(name in fields)) fields[name] = item.msg.replace(/^Value error, /, "");
  }
  let message = typeof body.detail === "string" ? body.detail : "";
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
